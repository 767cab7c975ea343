locals {
  # The regions where Google's Always Free tier includes one e2-micro and 30 GB of
  # standard persistent disk.
  free_tier_regions = ["us-west1", "us-central1", "us-east1"]

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
