// SPDX-License-Identifier: Apache-2.0

/// A type with a hand-written reader for its Mesos JSON (snake-case keys), several times faster than `JSONDecoder`.
///
/// - Important: A conforming type decodes exactly what `MesosJSON.decode` decodes, to the same value, or throws.
///   It may throw for input Foundation accepts (exotic keys or numbers); ``MesosJSON/decodeFast(_:from:)-(_,UnsafeRawBufferPointer)``
///   then decodes with Foundation, so callers see no difference but speed.
public protocol MesosJSONDecodable {
    /// Reads one value of this type from `reader`.
    init(mesosJSON reader: inout JSONReader) throws
}

/// A type with a hand-written writer for its Mesos JSON: the document `MesosJSON.encode` produces, keys in declaration
/// order (Foundation's order varies), values byte for byte the same.
public protocol MesosJSONEncodable {
    /// Writes this value to `writer`.
    func writeMesosJSON(into writer: inout JSONWriter)
}

/// A type with both a fast Mesos JSON reader and writer.
public typealias MesosJSONCodable = MesosJSONDecodable & MesosJSONEncodable

extension String: MesosJSONCodable {
    @inline(__always)
    public init(mesosJSON reader: inout JSONReader) throws { self = try reader.readString() }
    @inline(__always)
    public func writeMesosJSON(into writer: inout JSONWriter) { writer.write(self) }
}

extension Bool: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws { self = try reader.readBool() }
    public func writeMesosJSON(into writer: inout JSONWriter) { writer.write(self) }
}

extension Double: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws { self = try reader.readDouble() }
    public func writeMesosJSON(into writer: inout JSONWriter) { writer.write(self) }
}

extension Int: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws { self = try reader.readInteger() }
    public func writeMesosJSON(into writer: inout JSONWriter) { writer.write(self) }
}

extension Int64: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws { self = try reader.readInteger() }
    public func writeMesosJSON(into writer: inout JSONWriter) { writer.write(self) }
}

extension UInt32: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws { self = try reader.readInteger() }
    public func writeMesosJSON(into writer: inout JSONWriter) { writer.write(self) }
}

extension UInt64: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws { self = try reader.readInteger() }
    public func writeMesosJSON(into writer: inout JSONWriter) { writer.write(self) }
}

extension Array: MesosJSONDecodable where Element: MesosJSONDecodable {
    public init(mesosJSON reader: inout JSONReader) throws {
        self = []
        var array = try reader.beginArray()
        while try reader.nextElement(&array) {
            self.append(try Element(mesosJSON: &reader))
        }
    }
}

extension Array: MesosJSONEncodable where Element: MesosJSONEncodable {
    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginArray()
        for element in self { element.writeMesosJSON(into: &writer) }
        writer.endArray()
    }
}

/// `null` reads as nil, as `decodeIfPresent` reads it. (Optionals have no writer: ``JSONWriter/field(_:_:)-(_,T?)``
/// omits nil values, as `JSONEncoder` does.)
extension Optional: MesosJSONDecodable where Wrapped: MesosJSONDecodable {
    @inline(__always)
    public init(mesosJSON reader: inout JSONReader) throws {
        self = try reader.readNull() ? nil : try Wrapped(mesosJSON: &reader)
    }
}
