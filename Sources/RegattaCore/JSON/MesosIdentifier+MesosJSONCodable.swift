// SPDX-License-Identifier: Apache-2.0

private enum IdentifierField: String, JSONField {
    case value
}

private let identifierFields = JSONFieldTable<IdentifierField>()

/// `{"value":"…"}`, as ``MesosIdentifier``'s `Codable` conformance reads and writes it.
extension MesosJSONDecodable where Self: MesosIdentifier {
    public init(mesosJSON reader: inout JSONReader) throws {
        var value: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, identifierFields) {
            switch field {
            case .value: value = try reader.read()
            }
        }
        guard let value else { throw reader.missing(IdentifierField.value, in: object) }
        self.init(value)
    }
}

extension MesosJSONEncodable where Self: MesosIdentifier {
    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("value", self.value)
        writer.endObject()
    }
}

/// A string enum reads and writes its raw value, as its synthesized `Codable` conformance does.
extension MesosJSONDecodable where Self: RawRepresentable<String> {
    public init(mesosJSON reader: inout JSONReader) throws {
        self = try reader.readEnum()
    }
}

extension MesosJSONEncodable where Self: RawRepresentable<String> {
    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.write(self.rawValue)
    }
}

extension FrameworkID: MesosJSONCodable {}
extension AgentID: MesosJSONCodable {}
extension OfferID: MesosJSONCodable {}
extension TaskID: MesosJSONCodable {}
extension ExecutorID: MesosJSONCodable {}
extension ContainerID: MesosJSONCodable {}
