// SPDX-License-Identifier: Apache-2.0

/// JSON bodies in the shapes of Mesos's `docs/scheduler-http-api.md` examples (v1 scheduler API).
///
/// The doc's samples elide parts (`{...}`), carry trailing commas and, for OFFERS and ERROR, differ from
/// `scheduler.proto` (`offer_id` instead of `id`, offers not wrapped in `Offers`); the bodies here keep the
/// doc's values and fill the elided parts with the proto's field names, as a real master or framework sends them.
enum MesosExamples {
    static let subscribe = """
        {
           "type"       : "SUBSCRIBE",
           "subscribe"  : {
              "framework_info"  : {
                "user" :  "foo",
                "name" :  "Example HTTP Framework",
                "roles": ["test"],
                "capabilities" : [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}],
                "failover_timeout": 604800,
                "checkpoint": true,
                "hostname": "scheduler.host",
                "webui_url": "http://scheduler.host:8080"
              },
              "force" : true
          }
        }
        """

    static let subscribed = """
        {
         "type"         : "SUBSCRIBED",
         "subscribed"   : {
             "framework_id"               : {"value":"12220-3440-12532-2345"},
             "heartbeat_interval_seconds" : 15,
             "master_info": {
                "id": "a1b2c3",
                "ip": 16777343,
                "port": 5050,
                "pid": "master@127.0.0.1:5050",
                "hostname": "localhost",
                "version": "1.12.0",
                "address": {"hostname": "localhost", "ip": "127.0.0.1", "port": 5050}
             }
          }
        }
        """

    static let offers = """
        {
          "type"   : "OFFERS",
          "offers" : {
            "offers" : [
              {
                "id"           : {"value": "12214-23523-O235235"},
                "framework_id" : {"value": "12124-235325-32425"},
                "agent_id"     : {"value": "12325-23523-S23523"},
                "hostname"     : "agent.host",
                "url": {
                  "scheme": "http",
                  "address": {"hostname": "agent.host", "ip": "10.0.0.5", "port": 5051},
                  "path": "/slave(1)"
                },
                "resources"    : [
                  {"name": "cpus", "type": "SCALAR", "scalar": {"value": 24}, "role": "*",
                   "allocation_info": {"role": "test"}},
                  {"name": "mem", "type": "SCALAR", "scalar": {"value": 24576.5}, "role": "*",
                   "allocation_info": {"role": "test"}},
                  {"name": "ports", "type": "RANGES",
                   "ranges": {"range": [{"begin": 31000, "end": 32000}, {"begin": 33000, "end": 33010}]},
                   "role": "*", "allocation_info": {"role": "test"}},
                  {"name": "disk", "type": "SCALAR", "scalar": {"value": 100},
                   "reservations": [{"type": "STATIC", "role": "test"}], "allocation_info": {"role": "test"}}
                ],
                "attributes"   : [
                  {"name": "rack", "type": "TEXT", "text": {"value": "a"}},
                  {"name": "zone", "type": "SCALAR", "scalar": {"value": 1}},
                  {"name": "slots", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 4}]}},
                  {"name": "tags", "type": "SET", "set": {"item": ["ssd", "gpu"]}}
                ],
                "executor_ids" : [],
                "allocation_info": {"role": "test"}
              }
            ]
          }
        }
        """

    static let acceptLaunch = """
        {
          "framework_id" : {"value" : "12220-3440-12532-2345"},
          "type"         : "ACCEPT",
          "accept"       : {
            "offer_ids"  : [
                             {"value" : "12220-3440-12532-O12"},
                             {"value" : "12220-3440-12532-O13"}
                           ],
            "operations" : [ {"type" : "LAUNCH", "launch" : {"task_infos" : [
              {
                "name": "web",
                "task_id": {"value": "web.instance-7c1e._app.1"},
                "agent_id": {"value": "12325-23523-S23523"},
                "resources": [
                  {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "role": "*"},
                  {"name": "mem", "type": "SCALAR", "scalar": {"value": 128}, "role": "*"},
                  {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31000}]},
                   "role": "*"}
                ],
                "command": {
                  "shell": true,
                  "value": "nginx -g 'daemon off;'",
                  "environment": {"variables": [
                    {"name": "PORT0", "value": "31000"},
                    {"name": "MARATHON_APP_ID", "value": "/web"}
                  ]},
                  "uris": [{"value": "https://example.com/site.tgz", "extract": true, "executable": false,
                            "cache": false, "output_file": "site.tgz"}],
                  "user": "nobody"
                },
                "container": {
                  "type": "DOCKER",
                  "docker": {
                    "image": "nginx:1.25",
                    "network": "BRIDGE",
                    "port_mappings": [{"host_port": 31000, "container_port": 80, "protocol": "tcp"}],
                    "privileged": false,
                    "parameters": [{"key": "label", "value": "team=web"}],
                    "force_pull_image": false
                  },
                  "volumes": [{"container_path": "/data", "mode": "RW"}]
                },
                "health_check": {
                  "type": "HTTP",
                  "http": {"scheme": "http", "port": 80, "path": "/health", "statuses": [200, 204]},
                  "delay_seconds": 15,
                  "interval_seconds": 10,
                  "timeout_seconds": 20,
                  "consecutive_failures": 3,
                  "grace_period_seconds": 10
                },
                "kill_policy": {"grace_period": {"nanoseconds": 5000000000}},
                "labels": {"labels": [{"key": "app", "value": "web"}]}
              }
            ]}} ],
            "filters"    : {"refuse_seconds" : 5.0}
          }
        }
        """

    static let decline = """
        {
          "framework_id" : {"value" : "12220-3440-12532-2345"},
          "type"         : "DECLINE",
          "decline"      : {
            "offer_ids"  : [
                             {"value" : "12220-3440-12532-O12"},
                             {"value" : "12220-3440-12532-O13"}
                           ],
            "filters"    : {"refuse_seconds" : 120.5}
          }
        }
        """

    static let acknowledge = """
        {
          "framework_id" : {"value" : "12220-3440-12532-2345"},
          "type"         : "ACKNOWLEDGE",
          "acknowledge"  : {
            "agent_id" :  {"value" : "12220-3440-12532-S1233"},
            "task_id"  :  {"value" : "12220-3440-12532-my-task"},
            "uuid"     :  "jhadf73jhakdlfha723adf"
          }
        }
        """

    static let reconcile = """
        {
          "framework_id" : {"value" : "12220-3440-12532-2345"},
          "type"         : "RECONCILE",
          "reconcile"    : {
            "tasks"      : [
                             { "task_id"  : { "value" : "312325" },
                               "agent_id" : { "value" : "123535" }
                             }
                           ]
          }
        }
        """

    static let kill = """
        {
          "framework_id" : {"value" : "12220-3440-12532-2345"},
          "type"         : "KILL",
          "kill"         : {
            "task_id"  :  {"value" : "12220-3440-12532-my-task"},
            "agent_id" :  {"value" : "12220-3440-12532-S1233"}
          }
        }
        """

    static let update = """
        {
          "type"   : "UPDATE",
          "update" : {
            "status" : {
                "task_id"  : { "value" : "12344-my-task"},
                "state"    : "TASK_RUNNING",
                "source"   : "SOURCE_EXECUTOR",
                "uuid"     : "adfadfadbhgvjayd23r2uahj",
                "bytes"    : "uhdjfhuagdj63d7hadkf",
                "agent_id" : { "value" : "12325-23523-S23523"},
                "executor_id" : { "value" : "12344-my-task"},
                "message"  : "container is running",
                "reason"   : "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
                "timestamp": 1700000000.25,
                "healthy"  : true,
                "labels"   : {"labels": [{"key": "k", "value": "v"}]}
              }
          }
        }
        """
}
