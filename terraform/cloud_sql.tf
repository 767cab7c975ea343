# MySQL for the cloud_run shape. Private IP only, inside the stack's VPC: Cloud Run reaches it by
# Direct VPC egress (cloud_run.tf), and the VM, during the migration window, imports its dump
# over the same network. Nothing here is reachable from the internet.

# Private services access: a range of the VPC handed to Google's managed services, and the
# peering that carries it. Neither is billed.
resource "google_compute_global_address" "private_services" {
  count         = local.cloud_run_count
  name          = "${local.name}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = var.private_services_cidr_prefix
  network       = google_compute_network.main.id
}

resource "google_service_networking_connection" "private_services" {
  count                   = local.cloud_run_count
  network                 = google_compute_network.main.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services[0].name]
  depends_on              = [google_project_service.cloud_run]
}

resource "google_sql_database_instance" "main" {
  count            = local.cloud_run_count
  name             = local.name
  region           = var.region
  database_version = "MYSQL_8_0"
  # A second, deliberate step on the way back to platform = vm (variables.tf).
  deletion_protection = var.enable_cloud_sql_deletion_protection

  settings {
    # db-f1-micro exists only in the Enterprise edition; Enterprise Plus starts far higher.
    edition           = "ENTERPRISE"
    tier              = var.cloud_sql_tier
    availability_type = "ZONAL"
    # HDD at the 10 GB minimum: the cheapest storage, ample for a database that fitted on a 30 GB VM.
    disk_type             = "PD_HDD"
    disk_size             = var.cloud_sql_disk_size_gb
    disk_autoresize       = true
    disk_autoresize_limit = var.cloud_sql_disk_size_gb * 4
    pricing_plan          = "PER_USE"

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.main.id
      # TLS is not enforced: the app's DATABASE_URL (backend/src/config.ts) carries no TLS options,
      # and this instance has no public address; traffic stays on Google's network in the VPC.
      #checkov:skip=CKV_GCP_6:Private IP only; the app's mysql:// URL has no TLS options and traffic never leaves the VPC.
      ssl_mode = "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    }

    backup_configuration {
      enabled = true
      # Binary logs allow point-in-time recovery between the daily backups.
      binary_log_enabled             = true
      start_time                     = "03:00"
      transaction_log_retention_days = 7
      backup_retention_settings {
        retained_backups = var.cloud_sql_backup_retention_count
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day  = 7
      hour = 4
    }

    database_flags {
      name  = "local_infile"
      value = "off"
    }

    user_labels = local.labels
  }

  depends_on = [google_service_networking_connection.private_services]
}

# The app's database. Its user is created out of band (`gcloud sql users create app ...`) so that
# no password is ever in Terraform's state; the password goes into the DATABASE_URL secret.
resource "google_sql_database" "app" {
  count     = local.cloud_run_count
  name      = "app"
  instance  = google_sql_database_instance.main[0].name
  charset   = "utf8mb4"
  collation = "utf8mb4_unicode_ci"
}
