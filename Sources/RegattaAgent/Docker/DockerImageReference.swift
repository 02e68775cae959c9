// SPDX-License-Identifier: Apache-2.0

/// An image reference split the way `POST /images/create` takes it: repository, and tag or digest.
///
/// `busybox` is `busybox` + `latest`; `registry:5000/team/app:1.2` is `registry:5000/team/app` + `1.2` (the
/// colon of a registry port is not a tag); `app@sha256:…` is `app` + `sha256:…`.
struct DockerImageReference: Hashable, Sendable {
    /// The repository, with its registry if one was named.
    var repository: String
    /// The tag, or the digest when the reference pins one; `latest` when it names neither.
    var tagOrDigest: String

    init(_ reference: String) {
        if let at = reference.firstIndex(of: "@") {
            var repository = String(reference[..<at])
            // `name:tag@digest`: the digest decides.
            if let colon = Self.tagColon(in: repository) {
                repository = String(repository[..<colon])
            }
            self.repository = repository
            self.tagOrDigest = String(reference[reference.index(after: at)...])
        } else if let colon = Self.tagColon(in: reference) {
            self.repository = String(reference[..<colon])
            self.tagOrDigest = String(reference[reference.index(after: colon)...])
        } else {
            self.repository = reference
            self.tagOrDigest = "latest"
        }
    }

    /// The colon starting a tag: the last one after the last `/`.
    private static func tagColon(in reference: String) -> String.Index? {
        let lastComponent = reference.lastIndex(of: "/").map { reference.index(after: $0) } ?? reference.startIndex
        return reference[lastComponent...].lastIndex(of: ":")
    }
}
