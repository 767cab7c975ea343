# Before the platform input these had no count: the moved blocks keep an existing VM where it is
# (google_compute_instance.main becomes google_compute_instance.main[0]) instead of replacing it.
# Terraform infers this one move by itself; written out, it is visible and survives a later
# switch to for_each. tests/moved.tftest.hcl plans the upgrade from a pre-platform state.
moved {
  from = google_compute_address.main
  to   = google_compute_address.main[0]
}

moved {
  from = google_compute_instance.main
  to   = google_compute_instance.main[0]
}

resource "google_compute_address" "main" {
  count        = local.vm_count
  name         = local.name
  region       = var.region
  address_type = "EXTERNAL"
  # The address survives a VM replacement, so DNS and known_hosts stay valid.
}

resource "google_compute_instance" "main" {
  # The VM answers the internet itself: an external load balancer would cost more than the VM.
  #checkov:skip=CKV_GCP_40:Single free-tier VM serves HTTPS directly; a load balancer in front costs about 18 USD/month.
  # Customer-supplied keys must be sent on every start, so the VM could not restart unattended;
  # the disk is still encrypted at rest with Google-managed keys.
  #checkov:skip=CKV_GCP_38:CSEK would block unattended restarts; Google-managed encryption at rest applies.
  # Access is by the metadata key of the admin user (the inventory contract's ansible_user);
  # OS Login would replace it with per-Google-account POSIX users.
  #checkov:skip=CKV_GCP_34:Metadata SSH key for the admin user is the chosen access path; OS Login is turned off on purpose.
  count        = local.vm_count
  name         = local.name
  zone         = local.zone
  machine_type = var.machine_type
  tags         = [local.vm_tag]

  boot_disk {
    auto_delete = true
    initialize_params {
      image  = var.boot_image
      size   = var.boot_disk_size_gb
      type   = var.boot_disk_type
      labels = local.labels
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.main.id
    access_config {
      nat_ip = google_compute_address.main[0].address
    }
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  # The free tier covers a standard (non-preemptible) VM only.
  scheduling {
    preemptible         = false
    automatic_restart   = true
    on_host_maintenance = "MIGRATE"
  }

  metadata = {
    # The guest agent creates the user, puts it in google-sudoers and installs the key.
    ssh-keys               = "${var.admin_user}:${trimspace(var.admin_ssh_public_key)}"
    block-project-ssh-keys = "true"
    serial-port-enable     = "false"
    # The guest agent publishes the SSH host keys as guest attributes (hostkeys/);
    # `npm run infra:inventory` reads them through the Compute API and pins them.
    enable-guest-attributes = "TRUE"
    # Metadata keys and OS Login exclude each other; this stack uses the metadata key.
    enable-oslogin = "false"
  }

  metadata_startup_script = templatefile("${path.module}/startup.sh.tftpl", {
    admin_user = var.admin_user
  })

  service_account {
    email = google_service_account.vm[0].email
    # Access is limited by the service account's IAM roles, the way Google recommends;
    # scopes only cap what those roles could ever reach.
    scopes = ["cloud-platform"]
  }

  labels = local.labels

  allow_stopping_for_update = true
}

resource "google_compute_resource_policy" "snapshots" {
  count  = var.enable_snapshots && local.vm_enabled ? 1 : 0
  name   = "${local.name}-daily"
  region = var.region

  snapshot_schedule_policy {
    schedule {
      daily_schedule {
        days_in_cycle = 1
        start_time    = "04:00"
      }
    }
    retention_policy {
      max_retention_days    = var.snapshot_retention_days
      on_source_disk_delete = "KEEP_AUTO_SNAPSHOTS"
    }
    snapshot_properties {
      # Regional storage costs less than multi-regional (the cost report fails the latter).
      storage_locations = [var.region]
      labels            = local.labels
    }
  }
}

resource "google_compute_disk_resource_policy_attachment" "snapshots" {
  count = var.enable_snapshots && local.vm_enabled ? 1 : 0
  name  = google_compute_resource_policy.snapshots[0].name
  disk  = google_compute_instance.main[0].name
  zone  = local.zone
}
