provider "google" {
  project = var.project_id
  region  = var.region
  zone    = local.zone

  # Every resource the provider creates carries these, so a bill line can be traced back here.
  default_labels = local.labels
}
