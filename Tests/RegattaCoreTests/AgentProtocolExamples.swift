// SPDX-License-Identifier: Apache-2.0

/// Agent protocol bodies (docs/protocol.md) in the shapes agents and masters send, with Mesos's field names.
enum AgentProtocolExamples {
    static let task = """
        {
          "name": "web",
          "task_id": {"value": "web.instance-7c1e._app.1"},
          "agent_id": {"value": "S1"},
          "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.01}, "role": "*", "allocation_info": {"role": "*"}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 8}, "role": "*"},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31001}]}, "role": "*"}
          ],
          "command": {
            "shell": true,
            "value": "python3 -m http.server $PORT0",
            "environment": {"variables": [{"name": "PORT0", "value": "31000"}, {"name": "MARATHON_APP_ID", "value": "/web"}]},
            "uris": [{"value": "https://example.com/app.tgz", "extract": true, "cache": false, "output_file": "app.tgz"}],
            "user": "nobody"
          },
          "container": {
            "type": "DOCKER",
            "docker": {
              "image": "nginx:1.25",
              "network": "BRIDGE",
              "port_mappings": [{"host_port": 31000, "container_port": 80, "protocol": "tcp"}],
              "privileged": false,
              "parameters": [{"key": "label", "value": "a=b"}],
              "force_pull_image": true
            },
            "volumes": [{"container_path": "/data", "host_path": "/srv/data", "mode": "RW"}],
            "hostname": "web-1"
          },
          "health_check": {
            "type": "HTTP",
            "http": {"scheme": "http", "port": 31000, "path": "/health", "statuses": [200, 204]},
            "delay_seconds": 15, "interval_seconds": 10, "timeout_seconds": 20.5,
            "consecutive_failures": 3, "grace_period_seconds": 300
          },
          "kill_policy": {"grace_period": {"nanoseconds": 3000000000}},
          "labels": {"labels": [{"key": "MARATHON_APP_VERSION", "value": "2024-01-01T00:00:00.000Z"}, {"key": "flag"}]},
          "discovery": {"visibility": "FRAMEWORK", "name": "web"}
        }
        """

    static let subscribe = """
        {
          "type": "SUBSCRIBE",
          "agent_id": {"value": "S1"},
          "subscribe": {
            "agent_info": {
              "hostname": "agent-1.example.com",
              "port": 5051,
              "id": {"value": "S1"},
              "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4}, "role": "*"},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 8192}, "role": "*"},
                {"name": "disk", "type": "SCALAR", "scalar": {"value": 10240}, "role": "*"},
                {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 32000}]}, "role": "*"},
                {"name": "gpus", "type": "SCALAR", "scalar": {"value": 1}, "role": "ml",
                 "reservations": [{"type": "STATIC", "role": "ml"}]}
              ],
              "attributes": [
                {"name": "rack", "type": "TEXT", "text": {"value": "rack-1"}},
                {"name": "zone", "type": "SCALAR", "scalar": {"value": 2}}
              ]
            },
            "tasks": [
              {"framework_id": {"value": "marathon"}, "state": "TASK_RUNNING", "task": \(task)},
              {"framework_id": {"value": "marathon"}, "state": 6, "task": {
                "name": "b", "task_id": {"value": "b.1"}, "agent_id": {"value": "S1"}, "resources": [],
                "command": {"value": "sleep 100"}}}
            ],
            "capabilities": ["DOCKER"],
            "version": "0.4.0"
          }
        }
        """

    static let update = """
        {
          "type": "UPDATE",
          "agent_id": {"value": "S1"},
          "update": {
            "framework_id": {"value": "marathon"},
            "status": {
              "task_id": {"value": "web.instance-7c1e._app.1"},
              "state": "TASK_FAILED",
              "message": "Command exited with status 1: \\"boom\\"\\n",
              "source": "SOURCE_EXECUTOR",
              "reason": "REASON_COMMAND_EXECUTOR_FAILED",
              "agent_id": {"value": "S1"},
              "executor_id": {"value": "web.instance-7c1e._app.1"},
              "timestamp": 1718000000.123456,
              "uuid": "3rLBQ8xgR9y6F1wfOQx3Ng==",
              "healthy": false,
              "data": "",
              "unreachable_time": {"nanoseconds": 1718000000123456789},
              "labels": {"labels": []}
            }
          }
        }
        """

    static let pong = #"{"type":"PONG","agent_id":{"value":"S1"}}"#

    static let registered = """
        {"type": "REGISTERED", "registered": {"agent_id": {"value": "S1"}, "ping_interval_seconds": 15,
          "master_info": {"id": "m-1", "ip": 16777343, "port": 5050, "pid": "master@127.0.0.1:5050",
            "hostname": "localhost", "version": "1.12.0", "address": {"hostname": "localhost", "ip": "127.0.0.1", "port": 5050}}}}
        """

    static let launch = """
        {"type": "LAUNCH", "launch": {"framework_id": {"value": "marathon"},
          "framework_info": {"user": "root", "name": "marathon", "id": {"value": "marathon"}, "failover_timeout": 604800,
            "checkpoint": true, "role": "*", "roles": ["*"], "hostname": "h", "principal": "p", "webui_url": "http://h:8080",
            "capabilities": [{"type": "PARTITION_AWARE"}], "labels": {"labels": [{"key": "a", "value": "b"}]}},
          "task": \(task)}}
        """

    static let kill = """
        {"type": "KILL", "kill": {"framework_id": {"value": "marathon"}, "task_id": {"value": "web.1"},
          "kill_policy": {"grace_period": {"nanoseconds": 5000000000}}}}
        """

    static let acknowledge = """
        {"type": "ACKNOWLEDGE", "acknowledge": {"framework_id": {"value": "marathon"}, "task_id": {"value": "web.1"},
          "uuid": "3rLBQ8xgR9y6F1wfOQx3Ng=="}}
        """
}
