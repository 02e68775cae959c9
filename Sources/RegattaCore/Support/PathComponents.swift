// SPDX-License-Identifier: Apache-2.0

/// File paths as the kernel reads them: bytes separated by `/`.
///
/// `String`'s `split`, `==` and `hasPrefix` work on grapheme clusters under canonical equivalence, so a `/` followed
/// by a combining mark is not a separator to them (`"a/\u{34F}b".split(separator: "/")` is one component), and two
/// differently normalized names compare equal while they are different files on disk. Path checks go through here.
public enum PathComponents {
    /// The non-empty components of `path`, split on the `/` byte.
    public static func split(_ path: String) -> [String] {
        path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Whether `path` starts with the `/` byte.
    public static func isAbsolute(_ path: String) -> Bool {
        path.utf8.first == UInt8(ascii: "/")
    }

    /// Whether `component` is exactly `.` (byte for byte).
    public static func isDot(_ component: String) -> Bool { component.utf8.elementsEqual(".".utf8) }

    /// Whether `component` is exactly `..` (byte for byte).
    public static func isDotDot(_ component: String) -> Bool { component.utf8.elementsEqual("..".utf8) }
}
