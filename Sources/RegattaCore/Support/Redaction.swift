// SPDX-License-Identifier: Apache-2.0

/// Hiding credentials in addresses before they are logged or shown (`/master/flags`, the agent's `/state`).
public enum Redaction {
    /// `text` with the password of its user information replaced by `***`: user information is everything between
    /// `scheme://` (or the start, without a scheme) and the **last** `@`; the user name before its first `:` stays
    /// (without a `:` all of it is hidden).
    ///
    /// The address parsers (`zk://user:password@host/path`) take the credentials to end at the last `@`, so a
    /// password may itself contain `@`; cutting at the first one would show the rest of such a password. When an
    /// `@` appears after the authority this hides more than the credentials, which errs on the safe side.
    public static func credentials(in text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        guard start <= at else { return text }
        let userInfo = text[start..<at]
        guard let colon = userInfo.firstIndex(of: ":") else {
            return String(text[..<start]) + "***" + String(text[at...])
        }
        return String(text[...colon]) + "***" + String(text[at...])
    }
}
