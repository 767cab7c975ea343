locals {
  zone = coalesce(var.zone, "${var.region}-b")
  name = "${var.name_prefix}-${var.environment}"

  labels = merge(var.labels, {
    app         = "e2-micro"
    environment = var.environment
    managed_by  = "terraform"
  })

  # Network tag that the web and ssh firewall rules target.
  vm_tag = "${local.name}-vm"

  # The VM exists in the vm shape, and in the cloud_run shape during the migration window.
  vm_enabled        = var.platform == "vm" || var.keep_vm
  cloud_run_enabled = var.platform == "cloud_run"
  # One of these for count, so a shape's resources come and go as a unit.
  vm_count        = local.vm_enabled ? 1 : 0
  cloud_run_count = local.cloud_run_enabled ? 1 : 0

  backup_bucket_name = coalesce(var.backup_bucket_name, "${var.project_id}-${local.name}-backups")
}
