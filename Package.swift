// swift-tools-version:6.1
// SPDX-License-Identifier: Apache-2.0
import PackageDescription

let package = Package(
    name: "Regatta",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "regatta", targets: ["regatta"]),
        .library(name: "RegattaCore", targets: ["RegattaCore"]),
        .library(name: "RegattaModel", targets: ["RegattaModel"]),
        .library(name: "RegattaTestKit", targets: ["RegattaTestKit"]),
        .library(name: "RegattaSchedulerTestKit", targets: ["RegattaSchedulerTestKit"]),
        .library(name: "RegattaMasterTestKit", targets: ["RegattaMasterTestKit"]),
        .library(name: "RegattaAgentTestKit", targets: ["RegattaAgentTestKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(name: "RegattaCore"),
        // What the scheduler's store persists (apps, instances, deployments) and the store protocol: shared by the
        // scheduler and the stores, so the stores do not link the scheduler.
        .target(name: "RegattaModel", dependencies: ["RegattaCore"]),
        // The coordination seam: the election and detector protocols the logic modules use, the pure failover
        // rules they share, and the values that cross it (ZooKeeperURL, MesosMasterAddress). No libzookeeper.
        .target(name: "RegattaCoordination", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(
            name: "RegattaHTTP",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RegattaMaster",
            dependencies: [
                "RegattaCore",
                "RegattaHTTP",
                "RegattaCoordination",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RegattaAgent",
            dependencies: [
                "RegattaCore",
                "RegattaHTTP",
                "RegattaCoordination",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RegattaScheduler",
            dependencies: [
                "RegattaCore",
                "RegattaModel",
                "RegattaHTTP",
                "RegattaCoordination",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RegattaStore",
            dependencies: [
                "RegattaCore",
                "RegattaModel",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(name: "CZooKeeper", path: "Sources/CZooKeeper"),
        .target(
            name: "RegattaZooKeeper",
            dependencies: [
                "CZooKeeper", "RegattaCoordination", "RegattaMaster", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RegattaCLI",
            dependencies: [
                "RegattaCore", "RegattaMaster", "RegattaAgent", "RegattaScheduler", "RegattaStore", "RegattaZooKeeper",
                "RegattaSimulator", "RegattaBench", "RegattaHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RegattaSimulator",
            dependencies: [
                "RegattaCore",
                "RegattaHTTP",
                "RegattaCoordination",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RegattaBench",
            dependencies: [
                "RegattaCore", "RegattaMaster", "RegattaScheduler", "RegattaStore", "RegattaSimulator", "RegattaAgent",
                "RegattaZooKeeper",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "regatta", dependencies: ["RegattaCLI"]),
        .executableTarget(
            name: "hello-framework",
            dependencies: [
                "RegattaCore", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Examples/HelloFramework"
        ),
        // Fakes and fixtures shared by the test targets. RegattaTestKit needs only Core and the model, so Core's
        // tests do not compile the services; the service kits hold the fakes of the protocols those modules declare.
        .target(name: "RegattaTestKit", dependencies: ["RegattaCore", "RegattaModel", "RegattaCoordination"]),
        .target(
            name: "RegattaSchedulerTestKit",
            dependencies: ["RegattaTestKit", "RegattaScheduler", "RegattaMaster"]
        ),
        .target(name: "RegattaMasterTestKit", dependencies: ["RegattaTestKit", "RegattaMaster"]),
        .target(name: "RegattaAgentTestKit", dependencies: ["RegattaTestKit", "RegattaAgent"]),
        .testTarget(name: "RegattaCoreTests", dependencies: ["RegattaCore", "RegattaTestKit"]),
        .testTarget(
            name: "RegattaHTTPTests",
            dependencies: [
                "RegattaHTTP",
                "RegattaTestKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "RegattaCoordinationTests", dependencies: ["RegattaCoordination", "RegattaTestKit"]),
        .testTarget(
            name: "RegattaMasterTests",
            dependencies: ["RegattaMaster", "RegattaTestKit", "RegattaMasterTestKit", "RegattaZooKeeper"]
        ),
        .testTarget(
            name: "RegattaAgentTests",
            dependencies: ["RegattaAgent", "RegattaTestKit", "RegattaAgentTestKit", "RegattaZooKeeper"]
        ),
        .testTarget(
            name: "RegattaSchedulerTests",
            dependencies: [
                "RegattaScheduler", "RegattaTestKit", "RegattaSchedulerTestKit",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "RegattaStoreTests",
            dependencies: [
                "RegattaStore", "RegattaModel", "RegattaTestKit", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RegattaZooKeeperTests",
            dependencies: ["RegattaZooKeeper", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "RegattaSimulatorTests",
            dependencies: ["RegattaSimulator", "RegattaMaster", "RegattaTestKit", "RegattaBench", "RegattaZooKeeper"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "RegattaCore", "RegattaTestKit", "RegattaScheduler", "RegattaZooKeeper", "RegattaHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // Scripts the tests run with the real Python clients (found through #filePath, not bundled).
            exclude: ["Python"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
