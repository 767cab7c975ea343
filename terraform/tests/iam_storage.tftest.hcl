# Least privilege: the VM writes logs, metrics and new backups; it can never delete a backup.

# The provider validates some computed values even against a mock (OpenTofu mocks them at
# plan time too), so give them realistic shapes.
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

run "service_account_has_exactly_the_intended_roles" {
  # apply (against the mock) so the members, computed from the service account, are known.
  command = apply

  assert {
    condition     = toset([for m in google_project_iam_member.vm : m.role]) == toset(["roles/logging.logWriter", "roles/monitoring.metricWriter"])
    error_message = "In the project the VM may only write logs and metrics."
  }
  assert {
    condition     = toset([for m in google_storage_bucket_iam_member.vm_backups : m.role]) == toset(["roles/storage.objectCreator", "roles/storage.objectViewer"])
    error_message = "On the backups bucket the VM may only create and read objects."
  }
  assert {
    condition     = alltrue([for m in google_storage_bucket_iam_member.vm_backups : m.bucket == google_storage_bucket.backups.name])
    error_message = "The bucket grants must be on the backups bucket only."
  }
  assert {
    condition     = alltrue(concat([for m in google_project_iam_member.vm : m.member == google_service_account.vm[0].member], [for m in google_storage_bucket_iam_member.vm_backups : m.member == google_service_account.vm[0].member]))
    error_message = "Every grant must go to the VM's own service account."
  }
  assert {
    condition     = google_compute_instance.main[0].service_account[0].email == google_service_account.vm[0].email
    error_message = "The VM must run as its own service account, not the default compute one."
  }
}

run "backups_bucket_keeps_history" {
  command = plan

  assert {
    condition     = google_storage_bucket.backups.uniform_bucket_level_access && google_storage_bucket.backups.public_access_prevention == "enforced"
    error_message = "The backups bucket must use uniform access and enforce public access prevention."
  }
  assert {
    condition     = length(google_storage_bucket.backups.retention_policy) == 1 || google_storage_bucket.backups.versioning[0].enabled
    error_message = "The backups bucket must keep history: a retention policy, or versions when the policy is off (tests/backup_retention.tftest.hcl)."
  }
  assert {
    condition     = anytrue([for r in google_storage_bucket.backups.lifecycle_rule : one(r.action).type == "Delete" && one(r.condition).age == 30])
    error_message = "Backups must be deleted after backup_retention_days (30 by default)."
  }
  assert {
    condition     = google_storage_bucket.backups.location == "US-CENTRAL1" && google_storage_bucket.backups.storage_class == "STANDARD"
    error_message = "The backups bucket must be Standard storage in the VM's free-tier region."
  }
}

run "monitoring_watches_healthz_and_emails" {
  command = apply

  assert {
    condition     = google_monitoring_uptime_check_config.main.http_check[0].path == "/healthz" && google_monitoring_uptime_check_config.main.monitored_resource[0].labels.host == "api.example.com"
    error_message = "The uptime check must probe https://<domain>/healthz."
  }
  assert {
    condition     = tolist(google_monitoring_alert_policy.main[0].notification_channels) == tolist([google_monitoring_notification_channel.email.id]) && google_monitoring_notification_channel.email.labels.email_address == "ops@example.com"
    error_message = "The alert policy must notify the email channel."
  }
  assert {
    condition     = strcontains(google_monitoring_alert_policy.main[0].conditions[0].condition_threshold[0].filter, google_monitoring_uptime_check_config.main.uptime_check_id)
    error_message = "The alert must watch this uptime check."
  }
}
