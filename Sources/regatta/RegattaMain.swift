// SPDX-License-Identifier: Apache-2.0
import RegattaCLI

#if canImport(Glibc)
import Glibc
#endif

@main
enum RegattaMain {
    static func main() async {
        // A parent (a test runner, some supervisors) may have left SIGTERM/SIGINT ignored or blocked, and both are
        // inherited across exec. Reset them so graceful shutdown on SIGTERM works however we were started.
        #if canImport(Glibc)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        #endif
        // `regatta __regatta_task_launcher …`: the agent runs a task as its user through its own binary.
        Regatta.runTaskLauncherIfRequested()
        RegattaLogging.bootstrap()
        await Regatta.main()
    }
}
