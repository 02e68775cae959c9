// SPDX-License-Identifier: Apache-2.0

extension LogKey {
    /// Docker's id of a container.
    static let dockerContainerID = "docker.container.id"
    /// A Docker image reference.
    static let dockerImage = "docker.image"
    /// Docker's warnings about a container it created.
    static let dockerWarnings = "docker.warnings"
    /// The Docker Engine's unix socket.
    static let dockerSocket = "docker.socket"
    /// A line of Docker's image pull progress.
    static let dockerStatus = "docker.status"
}
