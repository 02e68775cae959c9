// SPDX-License-Identifier: Apache-2.0

/// Appends a JSON string literal to a byte buffer, escaped as Foundation's `JSONEncoder` and `JSONSerialization`
/// escape it with `.withoutEscapingSlashes`: `"` and `\` backslashed, `\b \f \n \r \t` by name, other control
/// characters as `\u00XX`, everything else (slashes, non-ASCII UTF-8) as it is.
///
/// The master's `/master/state` writer and the scheduler's Marathon writer share it, so both stay byte-identical to
/// the Foundation output their tests compare with.
public enum JSONStringBytes {
    /// Appends `value` quoted and escaped.
    public static func append(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        if value.utf8.withContiguousStorageIfAvailable({ self.appendEscaped($0, to: &bytes) }) == nil {
            var value = value
            value.withUTF8 { self.appendEscaped($0, to: &bytes) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var start = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
            start = index + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(self.hexDigits[Int(byte >> 4)])
                bytes.append(self.hexDigits[Int(byte & 0xF)])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
