# Free-tier guardrails: each paid choice is refused unless allow_paid_resources = true.
# The messages themselves are checked against a real plan by .ci/suites/40-terraform.sh (guardrail).

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
  environment          = "dev"
  domain               = "api.example.com"
  alert_email          = "ops@example.com"
  admin_ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnlyForTerraformTest0000000000 test"
}

run "defaults_are_the_free_tier_shape" {
  command = plan

  assert {
    condition     = google_compute_instance.main[0].machine_type == "e2-micro"
    error_message = "The default machine type must be e2-micro."
  }
  assert {
    condition     = contains(["us-west1", "us-central1", "us-east1"], google_compute_subnetwork.main.region)
    error_message = "The default region must be a free-tier region."
  }
  assert {
    condition     = google_compute_instance.main[0].boot_disk[0].initialize_params[0].type == "pd-standard" && google_compute_instance.main[0].boot_disk[0].initialize_params[0].size <= 30
    error_message = "The default boot disk must be pd-standard and at most 30 GB."
  }
  assert {
    condition     = google_compute_instance.main[0].scheduling[0].preemptible == false
    error_message = "The free tier covers only a non-preemptible VM."
  }
  assert {
    condition     = length(google_compute_resource_policy.snapshots) == 0
    error_message = "Snapshots must be off unless enable_snapshots = true."
  }
}

run "rejects_paid_machine_type" {
  command = plan
  variables {
    machine_type = "e2-small"
  }
  expect_failures = [var.machine_type]
}

run "rejects_non_free_region" {
  command = plan
  variables {
    region = "europe-west1"
  }
  expect_failures = [var.region]
}

run "rejects_50_gb_disk" {
  command = plan
  variables {
    boot_disk_size_gb = 50
  }
  expect_failures = [var.boot_disk_size_gb]
}

run "rejects_ssd_disk" {
  command = plan
  variables {
    boot_disk_type = "pd-ssd"
  }
  expect_failures = [var.boot_disk_type]
}

run "rejects_long_snapshot_retention" {
  command = plan
  variables {
    enable_snapshots        = true
    snapshot_retention_days = 30
  }
  expect_failures = [var.snapshot_retention_days]
}

run "paid_resources_need_the_explicit_opt_in" {
  command = plan
  variables {
    allow_paid_resources = true
    machine_type         = "e2-small"
    region               = "europe-west1"
    boot_disk_size_gb    = 50
  }

  assert {
    condition     = google_compute_instance.main[0].machine_type == "e2-small" && google_compute_instance.main[0].zone == "europe-west1-b"
    error_message = "With allow_paid_resources = true the chosen machine type and region must be used."
  }
  assert {
    condition     = google_compute_instance.main[0].boot_disk[0].initialize_params[0].size == 50
    error_message = "With allow_paid_resources = true the chosen disk size must be used."
  }
}

run "snapshots_stay_regional_when_enabled" {
  command = plan
  variables {
    enable_snapshots = true
  }

  assert {
    condition     = google_compute_resource_policy.snapshots[0].snapshot_schedule_policy[0].snapshot_properties[0].storage_locations == toset(["us-central1"])
    error_message = "Snapshots must be stored in the VM's free-tier region."
  }
  assert {
    condition     = google_compute_resource_policy.snapshots[0].snapshot_schedule_policy[0].retention_policy[0].max_retention_days == 3
    error_message = "Snapshot retention must default to 3 days."
  }
}
