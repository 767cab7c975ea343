# The backups bucket's retention policy: no one, neither the VM nor an operator nor a prune
# misled by forged objects, can delete or replace a backup younger than N days. Not locked
# unless asked (locking is irreversible), and never alongside versioning, which GCS refuses.

mock_provider "google" {
  mock_resource "google_service_account" {
    defaults = {
      email  = "e2m-vm@e2m-test-000000.iam.gserviceaccount.com"
      member = "serviceAccount:e2m-vm@e2m-test-000000.iam.gserviceaccount.com"
    }
  }
  mock_resource "google_compute_address" {
    defaults = {
      address = "203.0.113.10"
    }
  }
}

variables {
  project_id           = "e2m-test-000000"
  environment          = "prod"
  domain               = "api.example.com"
  alert_email          = "ops@example.com"
  admin_ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnlyForTerraformTest0000000000 test"
}

run "retention_policy_by_default_unlocked" {
  command = plan

  assert {
    condition     = length(google_storage_bucket.backups.retention_policy) == 1 && tonumber(google_storage_bucket.backups.retention_policy[0].retention_period) == 7 * 86400
    error_message = "By default the backups bucket must retain every object for 7 days (604800 s)."
  }
  assert {
    condition     = google_storage_bucket.backups.retention_policy[0].is_locked == false
    error_message = "The retention policy must not be locked unless lock_backup_retention_policy = true: locking is irreversible."
  }
  assert {
    condition     = google_storage_bucket.backups.versioning[0].enabled == false
    error_message = "GCS refuses versioning on a bucket with a retention policy: it must be off while the policy is on."
  }
}

run "retention_days_and_lock_are_inputs" {
  command = plan

  variables {
    backup_retention_policy_days = 14
    lock_backup_retention_policy = true
  }

  assert {
    condition     = tonumber(google_storage_bucket.backups.retention_policy[0].retention_period) == 14 * 86400 && google_storage_bucket.backups.retention_policy[0].is_locked
    error_message = "backup_retention_policy_days = 14 and lock_backup_retention_policy = true must give a locked 14-day policy."
  }
}

run "no_policy_means_versions" {
  command = plan

  variables {
    backup_retention_policy_days = 0
  }

  assert {
    condition     = length(google_storage_bucket.backups.retention_policy) == 0 && google_storage_bucket.backups.versioning[0].enabled
    error_message = "backup_retention_policy_days = 0 must drop the retention policy and keep versions instead."
  }
}

run "policy_shorter_than_lifecycle" {
  command = plan

  variables {
    backup_retention_policy_days = 30
  }

  # backup_retention_days is 30: the lifecycle rule could never delete what the policy protects.
  expect_failures = [var.backup_retention_policy_days]
}
