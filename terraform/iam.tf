moved {
  from = google_service_account.vm
  to   = google_service_account.vm[0]
}

resource "google_service_account" "vm" {
  count        = local.vm_count
  account_id   = "${local.name}-vm"
  display_name = "e2-micro VM (${var.environment})"
  description  = "Identity of the e2-micro VM: writes logs and metrics, adds backups, cannot delete them."
}

locals {
  # What the VM's identity may do in the project, and nothing more.
  vm_project_roles = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ])

  # On the backups bucket only: create and read objects. Neither role carries
  # storage.objects.delete, and replacing an existing object needs delete as well, so a
  # compromised VM can add backups but cannot erase or overwrite history.
  vm_backup_bucket_roles = toset([
    "roles/storage.objectCreator",
    "roles/storage.objectViewer",
  ])
}

resource "google_project_iam_member" "vm" {
  # Keyed by role as before, so the VM shape's addresses do not change; empty without a VM.
  for_each = local.vm_enabled ? local.vm_project_roles : toset([])
  project  = var.project_id
  role     = each.value
  member   = google_service_account.vm[0].member
}

resource "google_storage_bucket_iam_member" "vm_backups" {
  for_each = local.vm_enabled ? local.vm_backup_bucket_roles : toset([])
  bucket   = google_storage_bucket.backups.name
  role     = each.value
  member   = google_service_account.vm[0].member
}
