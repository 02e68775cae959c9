// SPDX-License-Identifier: Apache-2.0
import RegattaZooKeeper
import Testing

@Suite struct ZooKeeperURLTests {
    @Test func parsesServersPathAndCredentials() throws {
        // When
        let url = try ZooKeeperURL(parsing: "zk://mesos:s3cret@zk1:2181,zk2:2182,10.0.0.3/mesos/")
        // Then
        #expect(
            url.servers == [
                .init(host: "zk1", port: 2181), .init(host: "zk2", port: 2182), .init(host: "10.0.0.3", port: 2181),
            ]
        )
        #expect(url.path == "/mesos")
        #expect(url.credentials == .init(username: "mesos", password: "s3cret"))
        #expect(url.credentials?.digest == "mesos:s3cret")
        #expect(url.connectionString == "zk1:2181,zk2:2182,10.0.0.3:2181")
    }

    @Test func defaultsToTheRootPathWithoutCredentials() throws {
        let url = try ZooKeeperURL(parsing: "zk://127.0.0.1:2181")
        #expect(url.path == "/")
        #expect(url.credentials == nil)
        #expect(url.description == "zk://127.0.0.1:2181")
    }

    @Test func acceptsBracketedIPv6AndUpperCaseScheme() throws {
        let url = try ZooKeeperURL(parsing: "ZK://[::1]:2181,[fd00::2]/marathon/leader")
        #expect(url.servers == [.init(host: "::1", port: 2181), .init(host: "fd00::2", port: 2181)])
        #expect(url.connectionString == "[::1]:2181,[fd00::2]:2181")
        #expect(url.path == "/marathon/leader")
    }

    @Test func keepsAnAtSignInThePassword() throws {
        let url = try ZooKeeperURL(parsing: "zk://user:p@ss@h:1/x")
        #expect(url.credentials == .init(username: "user", password: "p@ss"))
        #expect(url.servers == [.init(host: "h", port: 1)])
    }

    @Test func descriptionHidesThePassword() throws {
        let url = try ZooKeeperURL(parsing: "zk://mesos:s3cret@zk1:2181/mesos")
        #expect(url.description == "zk://mesos:***@zk1:2181/mesos")
        #expect(!"\(url.credentials!)".contains("s3cret"))
    }

    @Test(arguments: [
        ("http://zk1:2181/mesos", "must start with zk://"),
        ("zk:///mesos", "names no host"),
        ("zk://zk1:2181,,zk2/mesos", "a host in the list is empty"),
        ("zk://zk1:99999/mesos", "not a number from 1 to 65535"),
        ("zk://zk1:abc/mesos", "not a number from 1 to 65535"),
        ("zk://:2181/mesos", "has no host name"),
        ("zk://zk1:2181/a//b", "empty component"),
        ("zk://nopassword@zk1/mesos", "credentials must be user:password"),
    ])
    func rejectsMalformedURLs(text: String, reason: String) {
        do {
            _ = try ZooKeeperURL(parsing: text)
            Issue.record("'\(text)' parsed")
        } catch let error as ZooKeeperError {
            #expect(error.code == .invalidURL)
            #expect(error.message.contains(reason), "\(error.message)")
            #expect(error.message.contains("zk://127.0.0.1:2181/mesos"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func errorsNeverShowThePassword() {
        do {
            _ = try ZooKeeperURL(parsing: "zk://mesos:s3cret@zk1:notaport/mesos")
            Issue.record("parsed")
        } catch {
            #expect(!"\(error)".contains("s3cret"))
            #expect("\(error)".contains("mesos:***@"))
        }
    }
}
