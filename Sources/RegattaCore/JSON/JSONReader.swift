// SPDX-License-Identifier: Apache-2.0

/// A pull reader of one JSON document in UTF-8 bytes, for hand-written decoders that must be fast.
///
/// The reader validates the full JSON grammar (RFC 8259): strings with every escape and surrogate pairs, numbers,
/// whitespace, and nesting up to ``maximumDepth``. Values are read in document order:
///
/// ```swift
/// var object = try reader.beginObject()
/// while let field = try reader.nextField(&object, Self.fields) {
///     switch field {
///     case .name: name = try reader.read()
///     case .count: count = try reader.read()
///     }
/// }
/// ```
///
/// Numbers are read as `JSONDecoder` reads them: an integer field takes integer literals only, a `Double` field any
/// number, rounded correctly. Where `JSONDecoder` would be lenient or exotic (integers written as `1.0`, subnormal
/// doubles, keys that its snake-case conversion could match), the reader throws instead, so its callers can hand
/// the document to Foundation (see ``MesosJSON``).
///
/// - Important: The reader points into the bytes it was made from; use it only inside ``withReader(_:_:)``.
public struct JSONReader {
    /// The deepest nesting of objects and arrays read. Foundation's limit is 512; this one is lower so that anything
    /// this reader accepts, Foundation accepts too.
    public static let maximumDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Runs `body` with a reader over `bytes`, then checks that only whitespace follows what `body` read.
    ///
    /// - Throws: ``JSONReadError`` with its path filled in.
    public static func withReader<Result>(
        _ bytes: UnsafeRawBufferPointer,
        _ body: (inout JSONReader) throws -> Result
    ) throws(JSONReadError) -> Result {
        let buffer = bytes.bindMemory(to: UInt8.self)
        var reader = JSONReader(buffer)
        do {
            let result = try body(&reader)
            reader.skipWhitespace()
            if reader.index < buffer.count {
                throw JSONReadError("unexpected bytes after the document", offset: reader.index)
            }
            return result
        } catch var error as JSONReadError {
            error.path = JSONPathLocator.path(in: buffer, at: error.offset)
            throw error
        } catch {
            throw JSONReadError("\(error)", offset: reader.index)
        }
    }

    /// Decodes one `T` from `bytes`, which must hold exactly one JSON document.
    public static func decode<T: MesosJSONDecodable>(
        _ type: T.Type,
        from bytes: UnsafeRawBufferPointer
    ) throws(JSONReadError) -> T {
        try self.withReader(bytes) { reader in try T(mesosJSON: &reader) }
    }

    // MARK: Errors

    /// An error at the current position.
    public func error(_ message: String) -> JSONReadError {
        JSONReadError(message, offset: self.index)
    }

    /// An error for a required key missing from the object that `object` read.
    public func missing(_ key: some JSONField, in object: JSONObjectCursor) -> JSONReadError {
        JSONReadError("the key '\(key.rawValue)' is required", offset: object.start)
    }

    // MARK: Bytes

    @inline(__always)
    private mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x0A, 0x0D, 0x09: self.index += 1
            default: return
            }
        }
    }

    /// The next byte after whitespace, not consumed; 0 at the end (0 never starts a JSON value).
    @inline(__always)
    private mutating func peek() -> UInt8 {
        self.skipWhitespace()
        return self.index < self.bytes.count ? self.bytes[self.index] : 0
    }

    @inline(__always)
    private mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String) throws(JSONReadError) {
        guard self.peek() == byte else { throw self.error("expected \(what())") }
        self.index += 1
    }

    private mutating func enter() throws(JSONReadError) {
        self.depth += 1
        if self.depth > Self.maximumDepth {
            throw self.error("objects and arrays are nested deeper than \(Self.maximumDepth) levels")
        }
    }

    /// The kind of the next value, not consumed; nil at the end of the input or before a byte no value starts with.
    public mutating func peekKind() -> JSONValueKind? {
        switch self.peek() {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: nil
        }
    }

    // MARK: Literals

    /// Consumes `null` if it is next and returns whether it was.
    public mutating func readNull() throws(JSONReadError) -> Bool {
        guard self.peek() == UInt8(ascii: "n") else { return false }
        try self.literal("null")
        return true
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(JSONReadError) -> Bool {
        switch self.peek() {
        case UInt8(ascii: "t"):
            try self.literal("true")
            return true
        case UInt8(ascii: "f"):
            try self.literal("false")
            return false
        default:
            throw self.error("expected true or false")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONReadError) {
        let count = word.utf8CodeUnitCount
        guard self.bytes.count - self.index >= count else { throw self.error("expected \(word)") }
        let matches = word.withUTF8Buffer { expected in
            for offset in 0..<count where self.bytes[self.index + offset] != expected[offset] { return false }
            return true
        }
        guard matches else { throw self.error("expected \(word)") }
        self.index += count
    }

    // MARK: Strings

    /// Reads a string; escapes are decoded, and the text must be valid UTF-8.
    public mutating func readString() throws(JSONReadError) -> String {
        guard self.peek() == UInt8(ascii: "\"") else { throw self.error("expected a string") }
        let (start, end, flags) = try self.scanString()
        let raw = UnsafeBufferPointer(rebasing: self.bytes[start..<end])
        if flags == 0 { return String(decoding: raw, as: UTF8.self) }
        if flags & Self.hasEscape == 0 {
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw JSONReadError("a string is not valid UTF-8", offset: start)
            }
            return text
        }
        let unescaped = try self.unescape(start, end)
        guard let text = String(validating: unescaped, as: UTF8.self) else {
            throw JSONReadError("a string is not valid UTF-8", offset: start)
        }
        return text
    }

    private static let hasEscape: UInt8 = 1
    private static let hasNonASCII: UInt8 = 2

    /// Consumes a string whose opening quote is at `index`; returns the range between the quotes and whether it holds
    /// escapes or non-ASCII bytes.
    @inline(__always)
    private mutating func scanString() throws(JSONReadError) -> (start: Int, end: Int, flags: UInt8) {
        let start = self.index + 1
        var position = start
        var flags: UInt8 = 0
        let count = self.bytes.count
        while position < count {
            let byte = self.bytes[position]
            if byte == UInt8(ascii: "\"") {
                self.index = position + 1
                return (start, position, flags)
            }
            if byte == UInt8(ascii: "\\") {
                flags |= Self.hasEscape
                position += 1
                guard position < count else { break }
                switch self.bytes[position] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    guard position + 4 < count,
                        Self.hexValue(self.bytes[position + 1]) != nil, Self.hexValue(self.bytes[position + 2]) != nil,
                        Self.hexValue(self.bytes[position + 3]) != nil, Self.hexValue(self.bytes[position + 4]) != nil
                    else { throw JSONReadError("a \\u escape needs four hex digits", offset: position) }
                    position += 5
                default:
                    throw JSONReadError("invalid escape sequence in a string", offset: position - 1)
                }
                continue
            }
            if byte < 0x20 {
                throw JSONReadError("an unescaped control character in a string", offset: position)
            }
            if byte >= 0x80 { flags |= Self.hasNonASCII }
            position += 1
        }
        throw JSONReadError("a string has no closing quote", offset: start - 1)
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func hex4(at position: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | (Self.hexValue(self.bytes[position + offset]) ?? 0) }
        return value
    }

    /// The bytes of the already validated string body `start..<end` with escapes decoded.
    private func unescape(_ start: Int, _ end: Int) throws(JSONReadError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(end - start)
        var position = start
        while position < end {
            let byte = self.bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                position += 1
                continue
            }
            let escape = self.bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "f"): result.append(0x0C)
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = self.hex4(at: position)
                position += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard position + 6 <= end, self.bytes[position] == UInt8(ascii: "\\"),
                        self.bytes[position + 1] == UInt8(ascii: "u")
                    else { throw JSONReadError("a high surrogate escape without its low half", offset: position - 6) }
                    let low = self.hex4(at: position + 2)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw JSONReadError("a high surrogate escape without its low half", offset: position - 6)
                    }
                    position += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw JSONReadError("a low surrogate escape without its high half", offset: position - 6)
                }
                Self.appendUTF8(scalar, to: &result)
            default: result.append(escape)  // " \ /
            }
        }
        return result
    }

    private static func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            bytes.append(UInt8(scalar))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | scalar >> 6))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | scalar >> 12))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | scalar >> 18))
            bytes.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Numbers

    /// A number's digits as scanned: where it is and whether it has a fraction or exponent.
    private struct NumberToken {
        var start: Int
        var end: Int
        var negative: Bool
        /// No fraction and no exponent.
        var isInteger: Bool
    }

    private mutating func scanNumber() throws(JSONReadError) -> NumberToken {
        let byte = self.peek()
        let start = self.index
        let count = self.bytes.count
        var position = start
        let negative = byte == UInt8(ascii: "-")
        if negative { position += 1 }
        func isDigit(_ position: Int) -> Bool {
            position < count && self.bytes[position] >= UInt8(ascii: "0") && self.bytes[position] <= UInt8(ascii: "9")
        }
        guard isDigit(position) else { throw self.error("expected a number") }
        if self.bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while isDigit(position) { position += 1 }
        }
        var isInteger = true
        if position < count && self.bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard isDigit(position) else { throw JSONReadError("a number has no digits after '.'", offset: position) }
            while isDigit(position) { position += 1 }
            isInteger = false
        }
        if position < count && (self.bytes[position] | 0x20) == UInt8(ascii: "e") {
            position += 1
            if position < count
                && (self.bytes[position] == UInt8(ascii: "+") || self.bytes[position] == UInt8(ascii: "-"))
            {
                position += 1
            }
            guard isDigit(position) else { throw JSONReadError("a number has no exponent digits", offset: position) }
            while isDigit(position) { position += 1 }
            isInteger = false
        }
        self.index = position
        return NumberToken(start: start, end: position, negative: negative, isInteger: isInteger)
    }

    /// Reads an integer literal (no fraction or exponent) that fits `T`.
    public mutating func readInteger<T: FixedWidthInteger>(_ type: T.Type = T.self) throws(JSONReadError) -> T {
        let token = try self.scanNumber()
        guard token.isInteger else {
            throw JSONReadError("expected an integer, found a number with a fraction or exponent", offset: token.start)
        }
        var magnitude: UInt64 = 0
        for position in (token.negative ? token.start + 1 : token.start)..<token.end {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(self.bytes[position] - UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else {
                throw JSONReadError("the number does not fit in \(T.self)", offset: token.start)
            }
            magnitude = sum
        }
        if token.negative {
            guard T.isSigned, magnitude <= UInt64(T.max) + 1 else {
                throw JSONReadError("the number does not fit in \(T.self)", offset: token.start)
            }
            return magnitude == 0 ? 0 : T(truncatingIfNeeded: 0 &- magnitude)
        }
        guard let value = T(exactly: magnitude) else {
            throw JSONReadError("the number does not fit in \(T.self)", offset: token.start)
        }
        return value
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ]

    /// Reads any number as the nearest `Double` (correctly rounded, as Foundation's parser).
    public mutating func readDouble() throws(JSONReadError) -> Double {
        let token = try self.scanNumber()
        // Clinger's fast path: up to 15 significant digits and a power of ten up to 22 are exact doubles, so one
        // multiplication or division rounds correctly.
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits, including any beyond the 19 that fit in the mantissa
        var exponent = 0
        var position = token.negative ? token.start + 1 : token.start
        var inFraction = false
        while position < token.end {
            let byte = self.bytes[position]
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if (byte | 0x20) == UInt8(ascii: "e") {
                break
            } else {
                let digit = UInt64(byte - UInt8(ascii: "0"))
                if mantissa == 0 && digit == 0 {
                    if inFraction { exponent -= 1 }  // a leading zero
                } else if digits < 19 {
                    mantissa = mantissa * 10 + digit
                    digits += 1
                    if inFraction { exponent -= 1 }
                } else {
                    digits += 1
                    if !inFraction { exponent += 1 }
                }
            }
            position += 1
        }
        var explicitExponent = 0
        if position < token.end {
            position += 1
            var exponentNegative = false
            if self.bytes[position] == UInt8(ascii: "+") || self.bytes[position] == UInt8(ascii: "-") {
                exponentNegative = self.bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            while position < token.end {
                explicitExponent = min(explicitExponent * 10 + Int(self.bytes[position] - UInt8(ascii: "0")), 100_000)
                position += 1
            }
            if exponentNegative { explicitExponent = -explicitExponent }
        }
        // Foundation refuses some numbers with huge exponents; leave those to it.
        guard abs(explicitExponent) <= 400 else {
            throw JSONReadError("the number's exponent is out of range", offset: token.start)
        }
        if mantissa == 0 { return token.negative ? -0.0 : 0.0 }
        let power = exponent + explicitExponent
        if digits <= 15 && power >= -22 && power <= 22 {
            var value = Double(mantissa)
            value = power < 0 ? value / Self.powersOfTen[-power] : value * Self.powersOfTen[power]
            return token.negative ? -value : value
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[token.start..<token.end]), as: UTF8.self)
        // Foundation refuses numbers that overflow or underflow; leave those (and subnormals) to it.
        guard let value = Double(text), value.isNormal else {
            throw JSONReadError("the number \(text) is not a normal double", offset: token.start)
        }
        return value
    }

    // MARK: Objects and arrays

    /// Consumes `{` and returns the state of the object for ``nextField(_:_:)`` or ``nextKey(_:)``.
    public mutating func beginObject() throws(JSONReadError) -> JSONObjectCursor {
        guard self.peek() == UInt8(ascii: "{") else { throw self.error("expected an object") }
        let start = self.index
        self.index += 1
        try self.enter()
        return JSONObjectCursor(start: start)
    }

    /// A key just consumed (with its `:`): its bytes between the quotes, or its unescaped bytes if it had escapes.
    private struct KeyToken {
        var offset: Int
        var start: Int
        var end: Int
        var unescaped: [UInt8]?
    }

    private mutating func nextKeyToken(_ object: inout JSONObjectCursor) throws(JSONReadError) -> KeyToken? {
        var byte = self.peek()
        if object.isFirst {
            object.isFirst = false
        } else if byte == UInt8(ascii: ",") {
            self.index += 1
            byte = self.peek()
            guard byte == UInt8(ascii: "\"") else { throw self.error("expected a key after ','") }
        } else if byte != UInt8(ascii: "}") {
            throw self.error("expected ',' or '}' in an object")
        }
        if byte == UInt8(ascii: "}") {
            self.index += 1
            self.depth -= 1
            return nil
        }
        guard byte == UInt8(ascii: "\"") else { throw self.error("expected a key or '}'") }
        let offset = self.index
        let (start, end, flags) = try self.scanString()
        let unescaped = flags & Self.hasEscape == 0 ? nil : try self.unescape(start, end)
        try self.expect(UInt8(ascii: ":"), "':' after a key")
        return KeyToken(offset: offset, start: start, end: end, unescaped: unescaped)
    }

    @inline(__always)
    private func withKeyBytes<Result>(
        _ key: KeyToken,
        _ body: (UnsafeBufferPointer<UInt8>) throws(JSONReadError) -> Result
    ) throws(JSONReadError) -> Result {
        guard let unescaped = key.unescaped else {
            return try body(UnsafeBufferPointer(rebasing: self.bytes[key.start..<key.end]))
        }
        return try unescaped.withUnsafeBufferPointer { (bytes) throws(JSONReadError) in try body(bytes) }
    }

    /// Advances to the next key of the object: consumes it and its `:` and returns `body`'s result for its
    /// unescaped bytes; returns nil (consuming `}`) at the end of the object. Read or skip the value next.
    public mutating func nextKey<Result>(
        _ object: inout JSONObjectCursor,
        _ body: (UnsafeBufferPointer<UInt8>) throws(JSONReadError) -> Result
    ) throws(JSONReadError) -> Result? {
        guard let key = try self.nextKeyToken(&object) else { return nil }
        return try self.withKeyBytes(key, body)
    }

    /// Advances to the next known key of the object and returns its field, or nil (consuming `}`) at the end.
    ///
    /// Values of unknown keys are skipped (after validation), as `JSONDecoder` ignores them. Throws for a key that
    /// appears twice and for an unknown key that Foundation's `.convertFromSnakeCase` might still match to a property
    /// (anything but lower-case letters, digits and single inner underscores), so such documents go to Foundation.
    public mutating func nextField<Field: JSONField>(
        _ object: inout JSONObjectCursor,
        _ table: JSONFieldTable<Field>
    ) throws(JSONReadError) -> Field? {
        while let key = try self.nextKeyToken(&object) {
            let match = try self.withKeyBytes(key) { (bytes) throws(JSONReadError) -> (field: Field, bit: UInt64)? in
                if let match = table.lookup(bytes) { return match }
                guard Self.isPlainSnakeCase(bytes) else {
                    throw JSONReadError(
                        "the key '\(String(decoding: bytes, as: UTF8.self))' is not snake case",
                        offset: key.offset
                    )
                }
                return nil
            }
            guard let match else {
                try self.skipValue()
                continue
            }
            guard object.seen & match.bit == 0 else {
                throw JSONReadError("the key '\(match.field.rawValue)' appears twice", offset: key.offset)
            }
            object.seen |= match.bit
            return match.field
        }
        return nil
    }

    /// Whether Foundation's snake-case conversion leaves `key` unable to match any camel-case property other than
    /// the one whose snake-case name it is: lower-case letters and digits in words joined by single underscores.
    private static func isPlainSnakeCase(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        var previous = UInt8(ascii: "_")
        for byte in key {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): break
            case UInt8(ascii: "_"): if previous == UInt8(ascii: "_") { return false }
            default: return false
            }
            previous = byte
        }
        return key.isEmpty || previous != UInt8(ascii: "_")
    }

    /// Consumes `[`; then call ``nextElement(_:)`` before each element.
    public mutating func beginArray() throws(JSONReadError) -> JSONArrayCursor {
        guard self.peek() == UInt8(ascii: "[") else { throw self.error("expected an array") }
        self.index += 1
        try self.enter()
        return JSONArrayCursor()
    }

    /// Whether another element follows (consuming the `,` before it); false (consuming `]`) at the end.
    public mutating func nextElement(_ array: inout JSONArrayCursor) throws(JSONReadError) -> Bool {
        let byte = self.peek()
        if byte == UInt8(ascii: "]") {
            self.index += 1
            self.depth -= 1
            return false
        }
        if array.isFirst {
            array.isFirst = false
            return true
        }
        // After ',' the element's reader refuses a ']'.
        guard byte == UInt8(ascii: ",") else { throw self.error("expected ',' or ']' in an array") }
        self.index += 1
        return true
    }

    /// Skips one value of any type, validating it.
    public mutating func skipValue() throws(JSONReadError) {
        switch self.peek() {
        case UInt8(ascii: "\""):
            let (start, end, flags) = try self.scanString()
            if flags != 0 {
                // Validate what readString would: surrogates and UTF-8.
                let raw =
                    flags & Self.hasEscape == 0
                    ? Array(UnsafeBufferPointer(rebasing: self.bytes[start..<end])) : try self.unescape(start, end)
                guard String(validating: raw, as: UTF8.self) != nil else {
                    throw JSONReadError("a string is not valid UTF-8", offset: start)
                }
            }
        case UInt8(ascii: "{"):
            var object = try self.beginObject()
            while try self.nextKey(&object, { _ in () }) != nil { try self.skipValue() }
        case UInt8(ascii: "["):
            var array = try self.beginArray()
            while try self.nextElement(&array) { try self.skipValue() }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try self.readBool()
        case UInt8(ascii: "n"):
            try self.literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            // Foundation refuses numbers out of Double's range even where it ignores them.
            _ = try self.readDouble()
        default:
            throw self.error(self.index < self.bytes.count ? "expected a value" : "the document ends early")
        }
    }

    // MARK: Typed values

    /// Reads a `T`.
    @inline(__always)
    public mutating func read<T: MesosJSONDecodable>(_ type: T.Type = T.self) throws -> T {
        try T(mesosJSON: &self)
    }

    /// Reads a string that must be one of `T`'s raw values.
    public mutating func readEnum<T: RawRepresentable<String>>(_ type: T.Type = T.self) throws(JSONReadError) -> T {
        let offset = self.index
        let name = try self.readString()
        guard let value = T(rawValue: name) else {
            throw JSONReadError("'\(name)' is not a valid \(T.self)", offset: offset)
        }
        return value
    }
}

/// The kinds of JSON values.
public enum JSONValueKind: Sendable, Hashable {
    case object, array, string, number, bool, null
}

/// The state of one object being read by ``JSONReader``.
public struct JSONObjectCursor: Sendable {
    /// Where the object's `{` is.
    public let start: Int
    var isFirst = true
    /// The fields already read, one bit per case of the ``JSONField`` enum.
    public internal(set) var seen: UInt64 = 0

    init(start: Int) {
        self.start = start
    }
}

/// The state of one array being read by ``JSONReader``.
public struct JSONArrayCursor: Sendable {
    var isFirst = true
}
