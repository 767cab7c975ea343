mock_provider "google" {}

variables {
  project_id = "e2m-test-000000"
}

run "state_bucket_is_private_versioned_and_pruned" {
  # plan only: prevent_destroy would refuse the clean-up destroy after an apply.
  command = plan

  assert {
    condition     = google_storage_bucket.tfstate.name == "e2m-test-000000-tfstate"
    error_message = "The state bucket name must derive from the project."
  }
  assert {
    condition     = google_storage_bucket.tfstate.versioning[0].enabled
    error_message = "State must be versioned."
  }
  assert {
    condition     = google_storage_bucket.tfstate.uniform_bucket_level_access && google_storage_bucket.tfstate.public_access_prevention == "enforced"
    error_message = "The state bucket must use uniform access and enforce public access prevention."
  }
  assert {
    condition     = alltrue([for r in google_storage_bucket.tfstate.lifecycle_rule : one(r.condition).with_state == "ARCHIVED"]) && length(google_storage_bucket.tfstate.lifecycle_rule) == 2
    error_message = "Lifecycle rules may only ever delete noncurrent (ARCHIVED) versions, never live state."
  }
}

run "rejects_non_free_region" {
  command = plan
  variables {
    region = "europe-west1"
  }
  expect_failures = [var.region]
}
