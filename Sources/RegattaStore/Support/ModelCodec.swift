// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaModel

/// Encodes the scheduler's models to the JSON text the stores keep, and decodes them back.
///
/// Keys are sorted so equal models produce equal text, which keeps rows diffable and comparable.
enum ModelCodec {
    static func encode<Model: Encodable>(_ model: Model, what: @autoclosure () -> String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(model), as: UTF8.self)
        } catch {
            throw StoreError(
                .invalidArgument,
                "\(what()) cannot be encoded as JSON (\(error)); remove non-finite numbers and retry.",
                cause: error
            )
        }
    }

    static func decode<Model: Decodable>(
        _ type: Model.Type,
        from text: String,
        what: @autoclosure () -> String
    )
        throws -> Model
    {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(
                .corruptData,
                "The stored JSON of \(what()) cannot be decoded; fix or delete the row, or restore a backup.",
                cause: error
            )
        }
    }

    /// Keeps the last instance for each id, in first-seen order, so one batch never writes an id twice.
    static func lastWins(_ instances: [Instance]) -> [Instance] {
        var position: [String: Int] = [:]
        var result: [Instance] = []
        result.reserveCapacity(instances.count)
        for instance in instances {
            if let index = position[instance.id] {
                result[index] = instance
            } else {
                position[instance.id] = result.count
                result.append(instance)
            }
        }
        return result
    }

    /// Throws ``StoreError/Code/invalidArgument`` unless the app has a version to be stored under.
    static func requireVersion(_ app: AppDefinition) throws -> String {
        guard let version = app.version, !version.isEmpty else {
            throw StoreError(
                .invalidArgument,
                "App '\(app.id)' has no version; set `version` (an ISO 8601 timestamp) before saving it."
            )
        }
        return version
    }
}
