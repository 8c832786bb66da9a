def verify_chain():
    """Scheduled daily: walk the chain, so admin always shows a recent verdict."""
    from audit import services

    return services.verify_chain().message
