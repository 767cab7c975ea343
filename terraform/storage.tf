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

  #checkov:skip=CKV_GCP_78:With a retention policy (the default) GCS refuses versioning; the policy is the stronger guard: nothing younger than it can be deleted or replaced, by anyone.
  # The VM cannot delete (iam.tf), so history expires only through the lifecycle rules below.
  # A retention policy also stops an operator's mistake (or stolen operator credentials, or a
  # prune misled by forged objects) from deleting a backup younger than N days. GCS does not
  # allow versioning beside a retention policy: versioning keeps generations only when the
  # policy is off (backup_retention_policy_days = 0).
  versioning {
    enabled = var.backup_retention_policy_days == 0
  }

  dynamic "retention_policy" {
    for_each = var.backup_retention_policy_days > 0 ? [var.backup_retention_policy_days] : []
    content {
      retention_period = retention_policy.value * 86400
      # Irreversible once applied (terraform/README.md, "Backups: retention and locking").
      is_locked = var.lock_backup_retention_policy
    }
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
