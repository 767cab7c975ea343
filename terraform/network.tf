resource "google_compute_network" "main" {
  name = local.name
  # Auto mode would create a subnet in every region, each a place to misplace a VM.
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "main" {
  # Flow logs are billed as log ingestion; the SSH rule logs its hits and the VM ships its own logs.
  #checkov:skip=CKV_GCP_26:VPC flow logs cost money beyond the free tier; SSH firewall logging and VM logs cover this one-VM network.
  name                     = local.name
  region                   = var.region
  network                  = google_compute_network.main.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true
}

resource "google_compute_firewall" "web" {
  #checkov:skip=CKV_GCP_106:Port 80 must be reachable for ACME HTTP-01 challenges; the VM only redirects it to HTTPS.
  name      = "${local.name}-allow-web"
  network   = google_compute_network.main.id
  direction = "INGRESS"
  priority  = 1000
  # 80 stays open for ACME HTTP-01 challenges and the redirect to HTTPS.
  allow {
    protocol = "tcp"
    ports    = ["80", "443"]
  }
  source_ranges = ["0.0.0.0/0"]
  target_tags   = [local.vm_tag]
}

resource "google_compute_firewall" "ssh" {
  name      = "${local.name}-allow-ssh"
  network   = google_compute_network.main.id
  direction = "INGRESS"
  priority  = 1000
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
  source_ranges = var.ssh_source_ranges
  target_tags   = [local.vm_tag]

  log_config {
    metadata = "EXCLUDE_ALL_METADATA"
  }
}

# GCP already denies unmatched ingress (implied rule, priority 65535); this explicit rule makes
# the default visible in code and in the console, and is where deny logging would be switched on.
resource "google_compute_firewall" "deny_all_ingress" {
  name      = "${local.name}-deny-all-ingress"
  network   = google_compute_network.main.id
  direction = "INGRESS"
  priority  = 65534
  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]
}
