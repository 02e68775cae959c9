// SPDX-License-Identifier: Apache-2.0

// This module implements the coordination protocols; its users see them, and the values it shares with them
// (ZooKeeperURL, MesosMasterAddress, LeadingMaster), through it.
@_exported import RegattaCoordination
