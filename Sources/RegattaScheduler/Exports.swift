// SPDX-License-Identifier: Apache-2.0

// The scheduler's API speaks in the model's types (apps, instances, deployments, the store protocol), so a module
// that imports the scheduler gets them too, as before they moved to RegattaModel.
@_exported import RegattaModel
