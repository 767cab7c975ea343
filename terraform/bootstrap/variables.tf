variable "project_id" {
  description = "GCP project that holds the state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the state bucket; a free-tier region keeps its storage inside the free 5 GB-month."
  type        = string
  default     = "us-central1"

  validation {
    condition     = contains(["us-west1", "us-central1", "us-east1"], var.region)
    error_message = "region must be us-west1, us-central1 or us-east1: Cloud Storage's free 5 GB-month is for Standard storage in these regions only."
  }
}

variable "state_bucket_name" {
  description = "Name of the state bucket; null derives <project_id>-tfstate."
  type        = string
  default     = null
}

variable "noncurrent_versions_kept" {
  description = "Newest noncurrent state versions always kept."
  type        = number
  default     = 10

  validation {
    condition     = var.noncurrent_versions_kept >= 1
    error_message = "noncurrent_versions_kept must be at least 1."
  }
}

variable "noncurrent_version_days" {
  description = "Days after which a noncurrent state version may be deleted."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}
