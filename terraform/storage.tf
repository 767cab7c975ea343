# In both platform shapes, with no count: switching shapes never touches it
# (tests/platform.tftest.hcl). No prevent_destroy: `terraform test` destroys what it applied
# against its mock, and prevent_destroy would fail that clean-up; force_destroy = false makes
# GCP itself refuse to delete it while it holds a backup.
resource "google_storage_bucket" "backups" {
  # Usage logs need a second bucket and only say what Cloud Audit Logs already can.
  #checkov:skip=CKV_GCP_62:Access logging needs a second log bucket; Cloud Audit Logs record access to backups instead.
  name     = local.backup_bucket_name
  location = upper(var.region)
  # Standard class in a free-tier region: the class and place the 5 GB-month allowance covers.
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Versioning keeps every generation; with the VM unable to delete (iam.tf), history can only
  # expire through the lifecycle rules below.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = var.backup_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.backup_noncurrent_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  labels = local.labels
}
