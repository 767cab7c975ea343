terraform {
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 8.0, < 9.0"
    }
  }

  # Applied once with local state (the bucket that would hold remote state does not exist
  # yet); README.md says how to move this state into the bucket afterwards.
}
