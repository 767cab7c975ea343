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
  description = "Name of the VM; also its inventory host name."
  value       = google_compute_instance.main.name
}

output "instance_zone" {
  description = "Zone of the VM."
  value       = google_compute_instance.main.zone
}

output "external_ip" {
  description = "Static external IPv4 address of the VM; point the domain's A record here."
  value       = google_compute_address.main.address
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

output "gcs_endpoint" {
  description = "Storage API endpoint for the backup tools; empty means the real Google API."
  value       = ""
}

output "service_account_email" {
  description = "Service account the VM runs as."
  value       = google_service_account.vm.email
}

output "uptime_check_id" {
  description = "ID of the /healthz uptime check."
  value       = google_monitoring_uptime_check_config.main.uptime_check_id
}
