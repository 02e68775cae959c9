// SPDX-License-Identifier: Apache-2.0

/// A change to an app in progress: Marathon's deployment, reduced to one step with one action.
public struct Deployment: Codable, Hashable, Sendable {
    public var id: String
    public var appId: String
    public var version: String
    /// `StartApplication`, `ScaleApplication`, `RestartApplication` or `StopApplication`.
    public var action: String
    public init(id: String, appId: String, version: String, action: String) {
        self.id = id
        self.appId = appId
        self.version = version
        self.action = action
    }
}
