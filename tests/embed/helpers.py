"""The sites the embed tests speak for."""

SITE = "https://blog.example.org"
OTHER = "https://elsewhere.example.net"
