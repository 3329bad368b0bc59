"""callwatch's simulator: simulated devices and residents, load generation, and the SMS sandbox.

Everything here exists to test a deployment end to end without real devices or a real SMS
account:

- ``families`` — each device family's real topics and payloads (native, OwnTracks,
  zigbee2mqtt, Tasmota, Shelly Gen1/Gen2, Traccar); ``device`` and ``fleet`` speak for
  simulated devices over MQTT, with real Last Wills (``mqtt_link``);
- ``device_commands`` — what a device can be told to do, for one-off commands and interactive mode;
- ``scenario`` — TOML scenario files (``scenarios/``) played step by step;
- ``load`` — many devices over a few connections at a total rate, presses mixed in;
- ``broker`` — a private broker for the demo (Mosquitto, else the embedded amqtt of the ``demo`` extra);
- ``demo`` — ``callwatch demo``: its directory, scenario, printer, and the session that runs it all;
- ``harness`` — a private Mosquitto (plain, or as shipped with TLS and the ACL), PostgreSQL databases
  and clusters, and the monitor as a child process: what the tests and benchmarks start;
- ``sandbox`` — a stand-in for Twilio's REST API and for the volunteers' phones.

``callwatch-sim`` (``simulator.cli``) runs the pieces from the shell.
"""
