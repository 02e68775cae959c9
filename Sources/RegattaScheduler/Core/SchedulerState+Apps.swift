// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Apps: preparing a new or changed definition, recording it once stored, removing it, and the earlier
/// configurations instances still run.
extension SchedulerState {
    /// Prepares a new or changed app for storing: sets version, versionInfo and service ports.
    ///
    /// - Returns: the app to store and the deployment action it starts.
    /// - Parameter restart: force a new configuration version (Marathon's `/restart`), replacing every instance.
    public func prepare(
        _ app: AppDefinition,
        timestamp: String,
        restart: Bool = false
    )
        -> (app: AppDefinition, action: String)
    {
        var app = app
        let existing = self.apps[app.id]
        app.version = timestamp
        app.portDefinitions = self.assignServicePorts(app.portDefinitions, app: app.id, previous: existing)
        if let existing, app.differsOnlyInScale(from: existing), !restart {
            app.versionInfo = VersionInfo(
                lastScalingAt: timestamp,
                lastConfigChangeAt: existing.versionInfo?.lastConfigChangeAt ?? existing.version ?? timestamp
            )
        } else {
            app.versionInfo = VersionInfo(lastScalingAt: timestamp, lastConfigChangeAt: timestamp)
        }
        let action: String
        if existing == nil {
            action = "StartApplication"
        } else if app.differsOnlyInScale(from: existing!) && !restart {
            action = "ScaleApplication"
        } else {
            action = "RestartApplication"
        }
        return (app, action)
    }

    private func assignServicePorts(
        _ definitions: [PortDefinition],
        app: String,
        previous: AppDefinition?
    )
        -> [PortDefinition]
    {
        var used = Set(self.apps.values.filter { $0.id != app }.flatMap { $0.portDefinitions.map(\.port) })
        var next = self.configuration.localPortMin
        return definitions.enumerated().map { index, definition in
            var definition = definition
            guard definition.port == 0 else { return definition }
            if let previousPort = previous?.portDefinitions[safe: index]?.port, previousPort != 0,
                !used.contains(previousPort)
            {
                definition.port = previousPort
            } else {
                while used.contains(next) && next < self.configuration.localPortMax { next += 1 }
                definition.port = next
            }
            used.insert(definition.port)
            return definition
        }
    }

    /// Records a stored app and its deployment (replacing the app's deployments in progress). A config change
    /// resets the app's launch delay.
    public mutating func commit(_ app: AppDefinition, deployment: Deployment) {
        let previous = self.apps[app.id]
        self.apps[app.id] = app
        if let previous, previous.configVersion != app.configVersion {
            self.rememberEarlierConfig(previous)
        }
        if previous?.configVersion != app.configVersion {
            self.backoff.reset(app.id)
            self.offerStatistics[app.id] = nil
            self.constraintStalls[app.id] = nil
        }
        for existing in self.deployments(ofApp: app.id) { self.deployments[existing.id] = nil }
        self.deployments[deployment.id] = deployment
    }

    /// Removes an app: its instances are marked for killing and returned. Its deployments in progress are replaced
    /// by `deployment` while something is left to kill.
    public mutating func removeApp(_ id: String, deployment: Deployment) -> [Instance] {
        self.apps[id] = nil
        self.earlierConfigs[id] = nil
        self.backoff.reset(id)
        self.offerStatistics[id] = nil
        self.constraintStalls[id] = nil
        for existing in self.deployments(ofApp: id) { self.deployments[existing.id] = nil }
        var killed: [Instance] = []
        for var instance in self.instances(ofApp: id) where !instance.killRequested {
            instance.killRequested = true
            self.put(instance)
            killed.append(instance)
        }
        if !killed.isEmpty { self.deployments[deployment.id] = deployment }
        return killed
    }

    /// Marks instances for killing on an API request. With `scale` they are not replaced (the app is stored with
    /// fewer instances already); without it they are replaced once their task ends.
    public mutating func requestKill(_ ids: [String], scale: Bool) -> [Instance] {
        var killed: [Instance] = []
        for id in ids {
            guard var instance = self.instances[id] else { continue }
            if scale && !instance.killRequested {
                instance.killRequested = true
                self.put(instance)
            }
            killed.append(instance)
        }
        return killed
    }

    /// Resets an app's launch delay (`DELETE /v2/queue/{id}/delay`).
    public mutating func resetDelay(_ appId: String) {
        self.backoff.reset(appId)
    }

    /// Whether an app may launch now (its backoff delay has passed).
    public func isDelayed(_ appId: String, now: Duration) -> Bool {
        self.backoff.isDelayed(appId, now: now)
    }

    // MARK: - Earlier configurations

    /// The configuration `instance` was launched with: the app's current one, or the earlier one it still runs
    /// (``earlierConfigs``), or the current one when that earlier one is not known (it was not in the store).
    public func config(of instance: Instance) -> AppDefinition? {
        guard let app = self.apps[instance.appId] else { return nil }
        if instance.version == app.configVersion { return app }
        return self.earlierConfigs[instance.appId]?[instance.version] ?? app
    }

    /// Remembers an earlier configuration of an app that instances still run (when loading them after a restart);
    /// ignored when no instance of it is left or it is the current one.
    public mutating func rememberEarlierConfig(_ config: AppDefinition) {
        guard let app = self.apps[config.id], config.configVersion != app.configVersion,
            self.countsByApp[config.id]?.byVersion[config.configVersion] != nil
        else { return }
        self.earlierConfigs[config.id, default: [:]][config.configVersion] = config
    }

    mutating func forgetEarlierConfig(appId: String, version: String) {
        self.earlierConfigs[appId]?[version] = nil
        if self.earlierConfigs[appId]?.isEmpty == true { self.earlierConfigs[appId] = nil }
    }

    /// The versions instances run that are neither their app's current configuration nor remembered.
    public var unknownEarlierVersions: [(appId: String, version: String)] {
        var missing: [(appId: String, version: String)] = []
        for (appId, counts) in self.countsByApp.sorted(by: { $0.key < $1.key }) {
            guard let app = self.apps[appId] else { continue }
            for version in counts.byVersion.keys.sorted()
            where version != app.configVersion && self.earlierConfigs[appId]?[version] == nil {
                missing.append((appId, version))
            }
        }
        return missing
    }
}
