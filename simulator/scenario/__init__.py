"""Scenario files: timed steps across many simulated devices (see ``simulator.scenario.model``)."""

from simulator.scenario.model import Scenario, ScenarioError, Step, load_scenario
from simulator.scenario.phones import PhoneScripts, RemoteSandboxScripts, SandboxScripts
from simulator.scenario.runner import ScenarioRun, StepFailure

__all__ = [
    "PhoneScripts",
    "RemoteSandboxScripts",
    "SandboxScripts",
    "Scenario",
    "ScenarioError",
    "ScenarioRun",
    "Step",
    "StepFailure",
    "load_scenario",
]
