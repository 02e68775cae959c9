// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

/// The API the HTTP layer calls: each call is a ``SchedulerState/Command`` answered by the machine once its change is
/// written.
extension ServiceScheduler {
    /// Creates an app. - Throws: `SchedulerError` (`.appExists`, `.storeUnavailable`, `.notLeader`).
    public func createApp(_ app: AppDefinition) async throws -> (AppDefinition, Deployment) {
        guard case .app(let stored, let deployment, _) = try await self.command(.createApp(app)) else {
            throw Self.unexpected("createApp")
        }
        return (stored, deployment)
    }

    /// Creates or replaces an app. Returns whether it was created.
    public func putApp(_ app: AppDefinition, force: Bool) async throws -> (AppDefinition, Deployment, created: Bool) {
        guard case .app(let stored, let deployment, let created) = try await self.command(.putApp(app, force: force))
        else { throw Self.unexpected("putApp") }
        return (stored, deployment, created)
    }

    /// Starts a rolling restart of an app.
    public func restartApp(_ id: String, force: Bool) async throws -> (AppDefinition, Deployment) {
        guard case .app(let stored, let deployment, _) = try await self.command(.restartApp(id, force: force)) else {
            throw Self.unexpected("restartApp")
        }
        return (stored, deployment)
    }

    /// Removes an app and kills its instances.
    public func deleteApp(_ id: String, force: Bool) async throws -> Deployment {
        guard case .deployment(let deployment?) = try await self.command(.deleteApp(id, force: force)) else {
            throw Self.unexpected("deleteApp")
        }
        return deployment
    }

    /// Kills tasks of an app; with `scale` the app's instance count shrinks so they are not replaced.
    ///
    /// - Returns: the killed instances and, with `scale`, the scale deployment.
    public func killTasks(
        appId: String,
        taskIDs: [TaskID]?,
        host: String?,
        scale: Bool,
        force: Bool
    ) async throws
        -> ([Instance], Deployment?)
    {
        let result = try await self.command(
            .killTasks(appId: appId, taskIDs: taskIDs, host: host, scale: scale, force: force)
        )
        guard case .killed(let instances, let deployment) = result else { throw Self.unexpected("killTasks") }
        return (instances, deployment)
    }

    /// Kills tasks by id across apps (`POST /v2/tasks/delete`), one app after another.
    public func killTasks(ids: [TaskID], scale: Bool, force: Bool) async throws -> [Instance] {
        var byApp: [String: [TaskID]] = [:]
        for id in ids {
            guard let instance = self.machine.instance(forTask: id) else { continue }
            byApp[instance.appId, default: []].append(id)
        }
        var killed: [Instance] = []
        for (app, tasks) in byApp.sorted(by: { $0.key < $1.key }) {
            killed += try await self.killTasks(appId: app, taskIDs: tasks, host: nil, scale: scale, force: force).0
        }
        return killed
    }

    /// Resets an app's launch delay.
    public func resetDelay(_ appId: String) async throws {
        _ = try await self.command(.resetDelay(appId))
    }

    /// Cancels a deployment: with `force` it is just dropped; otherwise the app goes back to its previous
    /// version (a new deployment), or is removed when it has none. Returns the rollback deployment, if any.
    public func cancelDeployment(_ id: String, force: Bool) async throws -> Deployment? {
        var previous: AppDefinition?
        if !force, let deployment = self.machine.deployments[id] {
            // The machine does no I/O: the version to roll back to is read here and carried by the command.
            do {
                let versions = try await self.storeForReads.appVersions(id: deployment.appId)
                if let version = versions.first(where: { $0 != deployment.version }) {
                    previous = try await self.storeForReads.appVersion(id: deployment.appId, version: version)
                }
            } catch {
                throw SchedulerError(
                    .storeUnavailable,
                    "The store is unavailable; nothing was changed. Retry later.",
                    cause: error
                )
            }
        }
        guard
            case .deployment(let rollback) = try await self.command(
                .cancelDeployment(id, force: force, previous: previous)
            )
        else { throw Self.unexpected("cancelDeployment") }
        return rollback
    }

    private static func unexpected(_ call: String) -> SchedulerError {
        SchedulerError(.storeUnavailable, "The scheduler answered \(call) with an unexpected result; this is a bug.")
    }
}

extension ServiceScheduler: HealthCheckHost {
    public func healthTargets() async -> [HealthCheckTarget] {
        self.machine.healthTargets()
    }

    public func healthResultsChanged(instanceId: String, results: [HealthCheckResult]) async {
        await self.healthCommand(.healthResultsChanged(instanceId: instanceId, results: results))
    }

    public func killUnhealthy(instanceId: String, check: AppHealthCheck, reason: String) async {
        await self.healthCommand(.killUnhealthy(instanceId: instanceId, check: check, reason: reason))
    }

    /// Health commands cannot fail but for a scheduler that stopped leading, whose checks end with its term.
    private func healthCommand(_ command: SchedulerState.Command) async {
        do {
            _ = try await self.command(command)
        } catch {
            self.logger.debug("Health check result dropped", metadata: ["error": "\(error)"])
        }
    }
}
