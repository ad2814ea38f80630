"""Test doubles that run for real: the local Sheets-API emulator."""
