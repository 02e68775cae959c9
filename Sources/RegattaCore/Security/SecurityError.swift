// SPDX-License-Identifier: Apache-2.0

/// Why a credentials file, an ACL file or a security flag was refused.
///
/// `message` names the file or flag and the fix; it never contains a secret.
public struct SecurityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// A credential or a list of them is malformed.
        case invalidCredentials
        /// An ACL document is malformed or names something Regatta does not enforce.
        case invalidACLs
        /// A file given to a security flag cannot be read.
        case unreadableFile
        /// The daemon would listen on a reachable address with nobody authenticated.
        case unauthenticatedListener
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}
