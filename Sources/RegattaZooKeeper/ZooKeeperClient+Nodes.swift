// SPDX-License-Identifier: Apache-2.0
import CZooKeeper

extension ZooKeeperClient {
    // MARK: Writing

    /// Creates a node and returns its actual path (with the sequence suffix for a sequential node, e.g.
    /// `/mesos/json.info_0000000003`).
    ///
    /// - Parameters:
    ///   - ephemeral: the node goes away when this client's session ends.
    ///   - sequential: ZooKeeper appends a 10-digit, monotonically increasing counter of the parent to the name.
    /// - Throws: ``ZooKeeperError`` — `.nodeExists`, `.noNode` (the parent is missing; see ``createParents(of:)``),
    ///   `.noChildrenForEphemerals`, `.noAuth`, `.connectionLoss`, …
    @discardableResult
    public func create(
        _ path: String,
        data: [UInt8] = [],
        ephemeral: Bool = false,
        sequential: Bool = false
    ) async throws -> String {
        let mode: Int32 =
            switch (ephemeral, sequential) {
            case (false, false): ZOO_PERSISTENT
            case (true, false): ZOO_EPHEMERAL
            case (false, true): ZOO_PERSISTENT_SEQUENTIAL
            case (true, true): ZOO_EPHEMERAL_SEQUENTIAL
            }
        let acl = self.acl
        return try await self.submit("create", path: path) { handle, context in
            data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    zoo_acreate(
                        handle,
                        path,
                        chars.baseAddress,
                        Int32(chars.count),
                        acl,
                        mode,
                        { rc, value, data in
                            let completion = Completion<String>.take(data)
                            guard rc == ZOK.rawValue, let value else { return completion.fail(rc) }
                            completion.succeed(String(cString: value))
                        },
                        context
                    )
                }
            }
        }
    }

    /// Creates every missing ancestor of `path` as an empty persistent node (not `path` itself), so that
    /// `createParents(of: "/a/b/json.info_")` makes `/a` and `/a/b`. Nodes that already exist are left alone.
    public func createParents(of path: String) async throws {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        var current = ""
        for component in components.dropLast() {
            current += "/" + component
            do {
                try await self.create(current)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            }
        }
    }

    /// Replaces a node's data and returns its new metadata.
    ///
    /// - Parameter version: the version the node must have (compare-and-set); `nil` replaces unconditionally.
    /// - Throws: ``ZooKeeperError`` — `.noNode`, `.badVersion`, `.noAuth`, `.connectionLoss`, …
    @discardableResult
    public func setData(_ path: String, data: [UInt8], version: Int32? = nil) async throws -> ZooKeeperStat {
        try await self.submit("setData", path: path) { handle, context in
            data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    zoo_aset(
                        handle,
                        path,
                        chars.baseAddress,
                        Int32(chars.count),
                        version ?? -1,
                        { rc, stat, data in
                            let completion = Completion<ZooKeeperStat>.take(data)
                            guard rc == ZOK.rawValue, let stat else { return completion.fail(rc) }
                            completion.succeed(ZooKeeperStat(stat.pointee))
                        },
                        context
                    )
                }
            }
        }
    }

    /// Deletes a node.
    ///
    /// - Parameter version: the version the node must have; `nil` deletes unconditionally.
    /// - Throws: ``ZooKeeperError`` — `.noNode`, `.notEmpty`, `.badVersion`, `.noAuth`, `.connectionLoss`, …
    public func delete(_ path: String, version: Int32? = nil) async throws {
        let _: Void = try await self.submit("delete", path: path) { handle, context in
            zoo_adelete(
                handle,
                path,
                version ?? -1,
                { rc, data in
                    let completion = Completion<Void>.take(data)
                    guard rc == ZOK.rawValue else { return completion.fail(rc) }
                    completion.succeed(())
                },
                context
            )
        }
    }

    /// Deletes a node and everything below it; a missing node is not an error.
    public func deleteRecursively(_ path: String) async throws {
        let children: [String]
        do {
            children = try await self.getChildren(path)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return
        }
        for child in children {
            try await self.deleteRecursively(path == "/" ? "/\(child)" : "\(path)/\(child)")
        }
        guard path != "/" else { return }
        do {
            try await self.delete(path)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return
        }
    }

    // MARK: Reading

    /// Reads a node's data and metadata.
    ///
    /// - Throws: ``ZooKeeperError`` — `.noNode`, `.noAuth`, `.connectionLoss`, …
    public func getData(_ path: String) async throws -> ZooKeeperNode {
        try await self.submit("getData", path: path) { handle, context in
            zoo_aget(
                handle,
                path,
                0,
                { rc, value, length, stat, data in
                    let completion = Completion<ZooKeeperNode>.take(data)
                    guard rc == ZOK.rawValue, let stat else { return completion.fail(rc) }
                    completion.succeed(
                        ZooKeeperNode(data: copyBytes(value, count: length), stat: ZooKeeperStat(stat.pointee))
                    )
                },
                context
            )
        }
    }

    /// Returns a node's metadata, or `nil` if it does not exist.
    public func exists(_ path: String) async throws -> ZooKeeperStat? {
        try await self.submit("exists", path: path) { handle, context in
            zoo_aexists(
                handle,
                path,
                0,
                { rc, stat, data in
                    let completion = Completion<ZooKeeperStat?>.take(data)
                    if rc == ZNONODE.rawValue { return completion.succeed(nil) }
                    guard rc == ZOK.rawValue, let stat else { return completion.fail(rc) }
                    completion.succeed(ZooKeeperStat(stat.pointee))
                },
                context
            )
        }
    }

    /// Returns the names (not paths) of a node's children, in no particular order.
    ///
    /// - Throws: ``ZooKeeperError`` — `.noNode`, `.noAuth`, `.connectionLoss`, …
    public func getChildren(_ path: String) async throws -> [String] {
        try await self.submit("getChildren", path: path) { handle, context in
            zoo_aget_children(
                handle,
                path,
                0,
                { rc, strings, data in
                    let completion = Completion<[String]>.take(data)
                    guard rc == ZOK.rawValue else { return completion.fail(rc) }
                    completion.succeed(copyStrings(strings))
                },
                context
            )
        }
    }

    // MARK: Reading with a watch

    /// Reads a node's data and sets a one-shot watch that fires when the data changes or the node is deleted.
    ///
    /// - Throws: ``ZooKeeperError`` — `.noNode` (then no watch is set; use ``watchExists(_:)``), …
    public func watchData(_ path: String) async throws -> ZooKeeperWatched<ZooKeeperNode> {
        let watch = self.watches.make(path: path)
        let node: ZooKeeperNode = try await self.submit("watchData", path: path, watch: watch) { handle, context in
            zoo_awget(
                handle,
                path,
                { _, type, state, _, context in
                    guard let context else { return }
                    Unmanaged<PendingWatch>.fromOpaque(context).takeUnretainedValue().handle(type: type, state: state)
                },
                watch.context,
                { rc, value, length, stat, data in
                    let completion = Completion<ZooKeeperNode>.take(data)
                    guard rc == ZOK.rawValue, let stat else { return completion.fail(rc) }
                    completion.succeed(
                        ZooKeeperNode(data: copyBytes(value, count: length), stat: ZooKeeperStat(stat.pointee))
                    )
                },
                context
            )
        }
        return ZooKeeperWatched(value: node, watch: ZooKeeperWatch(pending: watch))
    }

    /// Reads a node's metadata (`nil` if it does not exist) and sets a one-shot watch that fires when the node is
    /// created, deleted or its data changes.
    public func watchExists(_ path: String) async throws -> ZooKeeperWatched<ZooKeeperStat?> {
        let watch = self.watches.make(path: path)
        let stat: ZooKeeperStat? = try await self.submit("watchExists", path: path, watch: watch) { handle, context in
            zoo_awexists(
                handle,
                path,
                { _, type, state, _, context in
                    guard let context else { return }
                    Unmanaged<PendingWatch>.fromOpaque(context).takeUnretainedValue().handle(type: type, state: state)
                },
                watch.context,
                { rc, stat, data in
                    let completion = Completion<ZooKeeperStat?>.take(data)
                    // A missing node still registers the watch: it fires on creation.
                    if rc == ZNONODE.rawValue { return completion.succeed(nil) }
                    guard rc == ZOK.rawValue, let stat else { return completion.fail(rc) }
                    completion.succeed(ZooKeeperStat(stat.pointee))
                },
                context
            )
        }
        return ZooKeeperWatched(value: stat, watch: ZooKeeperWatch(pending: watch))
    }

    /// Lists a node's children and sets a one-shot watch that fires when a child is added or removed, or the node
    /// is deleted.
    ///
    /// - Throws: ``ZooKeeperError`` — `.noNode` (then no watch is set; use ``watchExists(_:)``), …
    public func watchChildren(_ path: String) async throws -> ZooKeeperWatched<[String]> {
        let watch = self.watches.make(path: path)
        let children: [String] = try await self.submit("watchChildren", path: path, watch: watch) {
            handle,
            context in
            zoo_awget_children(
                handle,
                path,
                { _, type, state, _, context in
                    guard let context else { return }
                    Unmanaged<PendingWatch>.fromOpaque(context).takeUnretainedValue().handle(type: type, state: state)
                },
                watch.context,
                { rc, strings, data in
                    let completion = Completion<[String]>.take(data)
                    guard rc == ZOK.rawValue else { return completion.fail(rc) }
                    completion.succeed(copyStrings(strings))
                },
                context
            )
        }
        return ZooKeeperWatched(value: children, watch: ZooKeeperWatch(pending: watch))
    }
}
