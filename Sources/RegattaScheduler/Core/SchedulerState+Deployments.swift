// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Deployments: started with their app's change, finished when the target is reached, resumed after a restart, and
/// cancelled (dropped, or rolled back to the app's previous version).
extension SchedulerState {
    /// Restores deployments loaded from the store (those of apps that no longer exist are dropped).
    public mutating func restoreDeployments(_ deployments: [Deployment]) {
        for deployment in deployments where self.apps[deployment.appId] != nil || deployment.action == "StopApplication"
        {
            self.deployments[deployment.id] = deployment
        }
    }

    /// Resumes the deployments stored when the scheduler stopped (after ``load(apps:instances:)``): those of
    /// deleted apps are deleted with the next write, and an app that has not converged without a deployment (its
    /// plan was lost) gets a new `RestartApplication` one.
    ///
    /// - Returns: the deployments started.
    @discardableResult
    public mutating func resumeDeployments(_ stored: [Deployment]) -> [Deployment] {
        self.restoreDeployments(stored)
        self.persistence.savedDeployments = Dictionary(stored.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        // Those of deleted apps were not restored: compare them all once, so they are deleted with the next write.
        self.persistence.unsavedDeploymentIDs = Set(self.persistence.savedDeployments.keys)
            .union(self.deployments.keys)
        var started: [Deployment] = []
        for app in self.apps.values.sorted(by: { $0.id < $1.id })
        where !self.isConverged(app) && self.deployments(ofApp: app.id).isEmpty {
            let deployment = Deployment(
                id: self.ids.next(),
                appId: app.id,
                version: app.version ?? "",
                action: "RestartApplication"
            )
            self.commit(app, deployment: deployment)
            self.persistence.deploymentChanged(deployment.id)
            started.append(deployment)
        }
        return started
    }

    /// Whether an app runs exactly its instances, all of its current version.
    func isConverged(_ app: AppDefinition) -> Bool {
        let instances = self.unorderedInstances(ofApp: app.id)
        return instances.count == app.instances
            && instances.allSatisfy { $0.version == app.configVersion && $0.state == .running }
    }

    /// Forgets a deployment without changing its app (`DELETE /v2/deployments/{id}?force=true`).
    public mutating func dropDeployment(_ id: String) {
        self.deployments[id] = nil
    }

    /// Deployments whose target is reached; they are removed and returned.
    public mutating func completeDeployments() -> [Deployment] {
        // Runs after every change: walk the deployments in place and sort only the finished ones.
        var done = self.deployments.values.filter { deployment in
            let counts = self.countsByApp[deployment.appId] ?? AppInstanceCounts()
            guard let app = self.apps[deployment.appId] else { return counts.isEmpty }
            // Ready instances of the current version are the target, and nothing else is left.
            let currentActive = counts.active[app.configVersion] ?? 0
            let ready = counts.ready(version: app.configVersion, healthChecked: !app.healthChecks.isEmpty)
            return ready == app.instances && counts.total == currentActive
        }
        done.sort { $0.id < $1.id }
        for deployment in done { self.deployments[deployment.id] = nil }
        return done
    }

    // MARK: - Cancelling

    /// `DELETE /v2/deployments/{id}`: with `force` the deployment is dropped (written first); otherwise the app goes
    /// back to `previous` in a new deployment, or is removed when it has no earlier version.
    mutating func cancelDeployment(
        _ id: String,
        force: Bool,
        previous: AppDefinition?,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        guard let deployment = self.deployments[id] else {
            self.fail(operation, SchedulerError(.appNotFound, "DeploymentPlan \(id) does not exist"), &actions)
            return
        }
        if force {
            let changes = DeploymentChanges(deletes: [id])
            self.persist([.updateDeployments(changes)], then: .deploymentDrop(changes, operation), &actions)
            return
        }
        if let previous {
            // Roll back: the previous version, as a new deployment replacing this one.
            self.apply(previous, restart: false, purpose: .rollback, operation, now: now, &actions)
        } else if self.apps[deployment.appId] != nil {
            // A new app has nothing to roll back to: remove it.
            self.startRemoval(deployment.appId, operation, now: now, &actions)
        } else {
            var operation = operation
            operation.result = .deployment(nil)
            self.complete(operation, now: now, &actions)
        }
    }

    /// Drops a deployment once its deletion is written.
    mutating func deploymentDropWritten(
        _ changes: DeploymentChanges,
        _ outcome: WriteOutcome,
        _ operation: Operation,
        _ actions: inout [Action]
    ) {
        switch outcome {
        case .succeeded:
            self.persistence.recordSaved(changes)
            for id in changes.deletes { self.dropDeployment(id) }
            var operation = operation
            operation.result = .deployment(nil)
            if let command = operation.command {
                self.park(.reply(command, operation.result), afterBatchesFrom: operation.batchesBefore, &actions)
            }
        case .failed(let failure):
            self.fail(operation, Self.storeError(failure), &actions)
        }
    }
}
