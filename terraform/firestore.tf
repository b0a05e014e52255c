# Firestore: the (default) database the Admin SDK opens (shared/cloud/clients.ts), the composite indexes and field
# overrides of firestore.indexes.json, and the security rules of firestore.rules.

locals {
  firestore_indexes = jsondecode(file("${path.module}/../firestore.indexes.json"))
}

resource "google_firestore_database" "kiln" {
  name                    = "(default)"
  location_id             = var.firestore_location
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy         = var.deletion_protection ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.apis]
}

resource "google_firestore_index" "kiln" {
  for_each = {
    for ix in local.firestore_indexes.indexes :
    "${ix.collectionGroup} ${ix.queryScope} ${join(",", [for f in ix.fields : "${f.fieldPath}:${f.order}"])}" => ix
  }

  database    = google_firestore_database.kiln.name
  collection  = each.value.collectionGroup
  query_scope = each.value.queryScope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.fieldPath
      order      = fields.value.order
    }
  }
}

# A field override with no indexes turns single-field indexing off (large maps nobody queries by); one with indexes
# lists the single-field indexes the field keeps (e.g. a collection-group index on builds.createdAt).
resource "google_firestore_field" "kiln" {
  for_each = { for o in local.firestore_indexes.fieldOverrides : "${o.collectionGroup} ${o.fieldPath}" => o }

  database   = google_firestore_database.kiln.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  index_config {
    dynamic "indexes" {
      for_each = each.value.indexes
      content {
        query_scope = indexes.value.queryScope
        order       = lookup(indexes.value, "order", null)
      }
    }
  }
}

resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/../firestore.rules")
    }
  }

  depends_on = [google_firestore_database.kiln]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}
