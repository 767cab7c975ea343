output "state_bucket" {
  description = "Bucket for the root configuration's backend: terraform init -backend-config=bucket=<this>."
  value       = google_storage_bucket.tfstate.name
}
