provider "google" {
  project = var.project_id
  region  = var.region
}

resource "google_storage_bucket" "tfstate" {
  # Usage logs need a second bucket and only say what Cloud Audit Logs already can.
  #checkov:skip=CKV_GCP_62:Access logging needs a second log bucket; Cloud Audit Logs record access to state instead.
  name                        = coalesce(var.state_bucket_name, "${var.project_id}-tfstate")
  location                    = upper(var.region)
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Losing state means re-importing everything by hand.
  force_destroy = false

  # Every state write is a new generation, so a bad apply can be rolled back.
  versioning {
    enabled = true
  }

  # Old generations are only needed for a while; keep the newest few and expire the rest so the
  # bucket stays inside the free 5 GB-month.
  lifecycle_rule {
    condition {
      num_newer_versions = var.noncurrent_versions_kept
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  labels = {
    app        = "e2-micro"
    purpose    = "terraform-state"
    managed_by = "terraform"
  }

  lifecycle {
    prevent_destroy = true
  }
}
