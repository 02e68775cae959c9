// SPDX-License-Identifier: Apache-2.0
import RegattaCLI

@main
enum RegattaMain {
    static func main() async {
        RegattaLogging.bootstrap()
        await Regatta.main()
    }
}
