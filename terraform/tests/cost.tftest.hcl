# The cost switches (README: What it costs): each paid resource is there by default where it
# protects the site, and goes away with its variable; the free parts stay.

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

run "defaults_alert_by_email_and_take_no_snapshots" {
  command = plan

  assert {
    condition     = length(google_monitoring_alert_policy.main) == 1 && length(google_compute_resource_policy.snapshots) == 0
    error_message = "By default the alert policy exists and the snapshot schedule does not."
  }
}

run "snapshots_on_schedule_daily_regional_snapshots" {
  command = plan
  variables {
    enable_snapshots = true
  }

  assert {
    condition     = length(google_compute_resource_policy.snapshots) == 1 && google_compute_resource_policy.snapshots[0].snapshot_schedule_policy[0].snapshot_properties[0].storage_locations == toset(["us-central1"])
    error_message = "enable_snapshots must schedule regional snapshots in the VM's region."
  }
}

run "cheapest_shape_drops_the_alert_policy_and_keeps_the_free_uptime_check" {
  command = plan
  variables {
    enable_alert_policy = false
    enable_snapshots    = false
  }

  assert {
    condition     = length(google_monitoring_alert_policy.main) == 0 && length(google_compute_resource_policy.snapshots) == 0 && length(google_compute_disk_resource_policy_attachment.snapshots) == 0
    error_message = "enable_alert_policy = false and enable_snapshots = false must leave no alert policy and no snapshot schedule."
  }
  assert {
    condition     = google_monitoring_uptime_check_config.main.http_check[0].path == "/healthz"
    error_message = "The free uptime check must stay."
  }
  assert {
    condition     = length(google_compute_address.main) == 1
    error_message = "The external IPv4 address stays: without it the site has no public IPv4 address."
  }
}
