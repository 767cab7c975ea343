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

  backup_bucket_name = coalesce(var.backup_bucket_name, "${var.project_id}-${local.name}-backups")
}
