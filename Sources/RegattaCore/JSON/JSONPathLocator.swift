// SPDX-License-Identifier: Apache-2.0

/// Finds the JSON path (`/update/status/task_id`, `/offers/offers/3`) of a byte offset in a document, for error
/// messages. It runs only after a read failed, so the reader itself never tracks paths.
enum JSONPathLocator {
    private enum Level {
        case object(key: String?)
        case array(index: Int)
    }

    /// The path of the innermost value around `offset`; tolerant of the malformed input that caused the error.
    static func path(in bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> String {
        var levels: [Level] = []
        var expectingKey = false
        var position = 0
        let limit = min(offset, bytes.count)
        while position < limit {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "{"):
                levels.append(.object(key: nil))
                expectingKey = true
            case UInt8(ascii: "["):
                levels.append(.array(index: 0))
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !levels.isEmpty { levels.removeLast() }
                expectingKey = false
            case UInt8(ascii: ","):
                switch levels.last {
                case .object: expectingKey = true
                case .array(let index): levels[levels.count - 1] = .array(index: index + 1)
                case nil: break
                }
            case UInt8(ascii: "\""):
                let start = position + 1
                position += 1
                while position < bytes.count && bytes[position] != UInt8(ascii: "\"") {
                    position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectingKey, case .object = levels.last {
                    let end = min(position, bytes.count)
                    levels[levels.count - 1] = .object(
                        key: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                    )
                    expectingKey = false
                }
            default:
                break
            }
            position += 1
        }
        // An object whose key was just named points at that key's value; one that was just opened at itself.
        let components: [String] = levels.compactMap { level in
            switch level {
            case .object(let key): key
            case .array(let index): String(index)
            }
        }
        return "/" + components.joined(separator: "/")
    }
}
