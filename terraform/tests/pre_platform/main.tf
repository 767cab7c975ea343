# The VM's resources (and the alert policy) at their addresses before they took a count, for
# tests/moved.tftest.hcl: a state written by this is what an existing VM user has.
terraform {
  required_providers {
    google = {
      source = "hashicorp/google"
    }
  }
}

resource "google_service_account" "vm" {
  account_id = "e2m-prod-vm"
}

resource "google_compute_address" "main" {
  name   = "e2m-prod"
  region = "us-central1"
}

resource "google_compute_instance" "main" {
  name         = "e2m-prod"
  zone         = "us-central1-b"
  machine_type = "e2-micro"
  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
    }
  }
  network_interface {
    network = "default"
  }
}

resource "google_monitoring_alert_policy" "main" {
  display_name = "e2m-prod /healthz failing"
  combiner     = "OR"
  conditions {
    display_name = "Uptime check failing"
    condition_threshold {
      filter          = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "600s"
    }
  }
}

output "instance_id" {
  description = "Mock id of the VM, to find it again after the upgrade."
  value       = google_compute_instance.main.id
}

output "address_id" {
  description = "Mock id of the address."
  value       = google_compute_address.main.id
}

output "alert_policy_id" {
  description = "Mock id of the alert policy."
  value       = google_monitoring_alert_policy.main.id
}

output "service_account_id" {
  description = "Mock id of the service account."
  value       = google_service_account.vm.id
}
