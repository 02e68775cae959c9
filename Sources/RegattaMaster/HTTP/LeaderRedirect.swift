// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import RegattaCore

/// How a master that does not lead answers the endpoints only the leader serves, as Mesos does: 307 with
/// `Location: //leader-host:port/<same path and query>` when the leader is known, 503 when it is not (or while this
/// master is elected but not yet able to act).
enum LeaderRedirect {
    /// `nil` when this master leads and should serve the request; otherwise the response to send instead.
    static func gate(_ leadership: MasterLeadership, request: Request) -> Response? {
        switch leadership.role {
        case .leading:
            return nil
        case .electedNotServing(let reason):
            return HTTPSupport.text(.serviceUnavailable, reason)
        case .following(let leader):
            guard let leader else { return self.noLeader() }
            var target = request.uri.path
            if let query = request.uri.query, !query.isEmpty { target += "?" + query }
            return self.redirect(to: leader, path: target)
        }
    }

    /// `/master/redirect` and `/redirect`: 307 to the leader's base URL (this master's own when it is elected), 503
    /// when no leader is known.
    static func redirectEndpoint(_ leadership: MasterLeadership, selfInfo: MasterInfo) -> Response {
        switch leadership.role {
        case .leading, .electedNotServing:
            return self.redirect(to: selfInfo, path: "")
        case .following(let leader):
            guard let leader else { return self.noLeader() }
            return self.redirect(to: leader, path: "")
        }
    }

    /// A 307 to `leader` with a protocol-relative location, as Mesos sends.
    static func redirect(to leader: MasterInfo, path: String) -> Response {
        let location =
            "//\(MasterInfoJSON.host(of: leader)):\(leader.address?.port ?? leader.port)\(path)"
        return Response(
            status: .temporaryRedirect,
            headers: [.location: location, .contentType: "text/plain; charset=utf-8"]
        )
    }

    static func noLeader() -> Response {
        HTTPSupport.text(
            .serviceUnavailable,
            "No leader elected: no master holds the election in ZooKeeper right now; retry shortly."
        )
    }
}
