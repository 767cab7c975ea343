# Upgrading a running VM to this configuration (the platform input put its resources under count)
# must move them, not replace them (the moved blocks in compute.tf and iam.tf). The first run
# writes a state with the pre-platform addresses (tests/pre_platform); the second plans this
# configuration against it and finds the same objects, ids and all, at their new addresses.

mock_provider "google" {
  mock_resource "google_service_account" {
    defaults = {
      email  = "e2m-prod-vm@e2m-test-000000.iam.gserviceaccount.com"
      member = "serviceAccount:e2m-prod-vm@e2m-test-000000.iam.gserviceaccount.com"
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

run "existing_vm" {
  state_key = "upgrade"
  module {
    source = "./tests/pre_platform"
  }
}

run "upgrade_moves_the_vm_instead_of_replacing_it" {
  # Planned against the state above. A resource that were replaced would be planned with an
  # unknown id, and the conditions could not be evaluated: the run would fail.
  state_key = "upgrade"
  command   = plan

  assert {
    condition     = google_compute_instance.main[0].id == run.existing_vm.instance_id
    error_message = "The VM must keep its identity: moved, not replaced."
  }
  assert {
    condition     = google_compute_address.main[0].id == run.existing_vm.address_id
    error_message = "The static address must be kept (DNS points at it)."
  }
  assert {
    condition     = google_service_account.vm[0].id == run.existing_vm.service_account_id
    error_message = "The VM's service account must be kept."
  }
  assert {
    condition     = google_monitoring_alert_policy.main[0].id == run.existing_vm.alert_policy_id
    error_message = "The alert policy must be kept when enable_alert_policy put it under count."
  }
}
