# Network exposure: 80/443 open, 22 only from the allowed CIDRs (IAP by default), the rest denied.

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

run "ssh_is_never_open_to_the_internet_by_default" {
  command = plan

  assert {
    condition     = google_compute_firewall.ssh.source_ranges == toset(["35.235.240.0/20"])
    error_message = "By default port 22 must be open to Google's IAP range only."
  }
  assert {
    condition     = !contains(flatten([for a in google_compute_firewall.web.allow : a.ports]), "22")
    error_message = "The world-open web rule must not include port 22."
  }
  assert {
    condition     = toset(flatten([for a in google_compute_firewall.web.allow : a.ports])) == toset(["80", "443"])
    error_message = "The web rule must open exactly 80 and 443."
  }
  assert {
    condition     = google_compute_firewall.ssh.target_tags == google_compute_firewall.web.target_tags && google_compute_firewall.web.target_tags == toset(google_compute_instance.main[0].tags)
    error_message = "The web and ssh rules must target the VM's tag."
  }
}

run "everything_else_is_denied" {
  command = plan

  assert {
    condition     = one([for d in google_compute_firewall.deny_all_ingress.deny : d.protocol]) == "all" && google_compute_firewall.deny_all_ingress.source_ranges == toset(["0.0.0.0/0"])
    error_message = "An explicit deny-all ingress rule must exist."
  }
  assert {
    condition     = google_compute_firewall.deny_all_ingress.priority > google_compute_firewall.ssh.priority && google_compute_firewall.deny_all_ingress.priority > google_compute_firewall.web.priority
    error_message = "The deny rule must have lower precedence (a higher number) than the allow rules."
  }
  assert {
    condition     = google_compute_network.main.auto_create_subnetworks == false
    error_message = "The VPC must be custom mode."
  }
}

run "rejects_ssh_from_anywhere" {
  command = plan
  variables {
    ssh_source_ranges = ["203.0.113.7/32", "0.0.0.0/0"]
  }
  expect_failures = [var.ssh_source_ranges]
}

run "ssh_follows_the_allowed_list" {
  command = plan
  variables {
    ssh_source_ranges = ["203.0.113.7/32"]
  }

  assert {
    condition     = google_compute_firewall.ssh.source_ranges == toset(["203.0.113.7/32"])
    error_message = "The ssh rule must use ssh_source_ranges."
  }
}

run "vm_is_hardened_and_ready_for_ansible" {
  command = plan

  assert {
    condition     = alltrue([for s in google_compute_instance.main[0].shielded_instance_config : s.enable_secure_boot && s.enable_vtpm && s.enable_integrity_monitoring])
    error_message = "The VM must be a shielded VM (secure boot, vTPM, integrity monitoring)."
  }
  assert {
    condition     = startswith(google_compute_instance.main[0].metadata["ssh-keys"], "ops:ssh-ed25519 ") && google_compute_instance.main[0].metadata["block-project-ssh-keys"] == "true"
    error_message = "The VM must carry only its own metadata key, for user ops."
  }
  assert {
    condition     = google_compute_instance.main[0].metadata["enable-guest-attributes"] == "TRUE"
    error_message = "The VM must publish its SSH host keys as guest attributes, for npm run infra:inventory to pin them."
  }
  assert {
    condition     = strcontains(google_compute_instance.main[0].metadata_startup_script, "python3")
    error_message = "The startup script must make sure python3 is present for Ansible."
  }
  assert {
    condition     = google_compute_instance.main[0].labels["environment"] == "dev" && google_compute_instance.main[0].labels["managed_by"] == "terraform"
    error_message = "The VM must be labelled with its environment."
  }
}
