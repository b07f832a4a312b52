/// Key providers: the places outside the data directory where the keys that shredding destroys can
/// live — a PKCS#11 token (``PKCS11KeyProvider``) or a Vault/OpenBao Transit engine
/// (``TransitKeyProvider``) — behind one protocol, ``KeyProvider``.
