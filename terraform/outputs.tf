# scripts/gcp-inventory.mjs turns these into inventory/gcp.yml; keep the names in step with it.

output "project_id" {
  description = "GCP project of this environment."
  value       = var.project_id
}

output "environment" {
  description = "Environment name (dev, staging or prod)."
  value       = var.environment
}

output "instance_name" {
  description = "Name of the VM; also its inventory host name. Null without a VM (platform = cloud_run, keep_vm = false)."
  value       = one(google_compute_instance.main[*].name)
}

output "instance_zone" {
  description = "Zone of the VM; null without a VM."
  value       = one(google_compute_instance.main[*].zone)
}

output "external_ip" {
  description = "Static external IPv4 address of the VM; point the domain's A record here. Null without a VM."
  value       = one(google_compute_address.main[*].address)
}

output "admin_user" {
  description = "User Ansible and people log in as (from the metadata SSH key)."
  value       = var.admin_user
}

output "ssh_port" {
  description = "SSH port of the VM."
  value       = 22
}

output "domain" {
  description = "Public DNS name of the backend."
  value       = var.domain
}

output "tls_mode" {
  description = "How the VM gets its certificate: acme (a real CA) on GCP."
  value       = "acme"
}

output "backup_bucket" {
  description = "Bucket the VM writes backups to."
  value       = google_storage_bucket.backups.name
}

output "backup_bucket_url" {
  description = "gs:// URL of the backups bucket (the same bucket in both platform shapes)."
  value       = google_storage_bucket.backups.url
}

output "gcs_endpoint" {
  description = "Storage API endpoint for the backup tools; empty means the real Google API."
  value       = ""
}

output "service_account_email" {
  description = "Service account the VM runs as; null without a VM."
  value       = one(google_service_account.vm[*].email)
}

output "uptime_check_id" {
  description = "ID of the /healthz uptime check."
  value       = google_monitoring_uptime_check_config.main.uptime_check_id
}

output "platform" {
  description = "Shape of the stack (vm or cloud_run); scripts/deploy.mjs deploys to Cloud Run when it is cloud_run."
  value       = var.platform
}

output "region" {
  description = "Region of the stack (VM, Cloud Run, Cloud SQL, buckets)."
  value       = var.region
}

output "cloud_run_service" {
  description = "Name of the Cloud Run service; null in the vm shape."
  value       = one(google_cloud_run_v2_service.main[*].name)
}

output "cloud_run_migrate_job" {
  description = "Name of the Cloud Run job that runs migrations from the new image on each deploy; null in the vm shape."
  value       = one(google_cloud_run_v2_job.migrate[*].name)
}

output "cloud_run_url" {
  description = "The Cloud Run service's own https://...run.app URL; null in the vm shape."
  value       = one(google_cloud_run_v2_service.main[*].uri)
}

output "cloud_run_service_account_email" {
  description = "Service account the Cloud Run service runs as; null in the vm shape."
  value       = one(google_service_account.run[*].email)
}

output "artifact_registry_repository" {
  description = "Docker repository for the app image (push here before a Cloud Run deploy); null in the vm shape."
  value       = local.cloud_run_enabled ? "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.main[0].repository_id}" : null
}

output "cloud_sql_instance" {
  description = "Cloud SQL instance name; null in the vm shape."
  value       = one(google_sql_database_instance.main[*].name)
}

output "cloud_sql_private_ip" {
  description = "Private IP of Cloud SQL in the VPC: the host of DATABASE_URL, and where the VM imports the dump during the migration. Null in the vm shape."
  value       = one(google_sql_database_instance.main[*].private_ip_address)
}

output "app_secret_ids" {
  description = "Secret Manager secrets the Cloud Run service reads (env name -> secret id). Terraform creates the containers only; add values with `gcloud secrets versions add`."
  value       = { for env_name, s in google_secret_manager_secret.app : env_name => s.secret_id }
}
