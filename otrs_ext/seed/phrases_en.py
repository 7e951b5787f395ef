"""English sentence templates of hosting / domain / billing support conversations.

Same names and placeholders as ``phrases_ru``.
"""

from __future__ import annotations

SUBJECTS = {
    "hosting": (
        "Website {domain} is down", "502 Bad Gateway on {domain}", "{domain} is extremely slow",
        "Disk quota exceeded", "PHP errors after version switch", "SSH access to {ip}",
        "Server {ip} unreachable", "Internal Server Error on our site", "Upgrade of our hosting plan",
    ),
    "domains": (
        "Renewal of {domain}", "Transfer of {domain} to your registrar", "Domain {domain} suspended",
        "Change of registrant for {domain}", "Auth code for {domain}", "Bulk domain transfer",
    ),
    "dns": (
        "DNS changes for {domain} not propagating", "MX records setup", "Subdomain {sub} does not resolve",
        "Nameserver change for {domain}", "TXT record for domain verification",
    ),
    "ssl": (
        "SSL certificate for {domain} fails to issue", "Certificate expired on {domain}",
        "Browser shows SSL warning", "Wildcard certificate", "Let's Encrypt renewal failed",
    ),
    "mail": (
        "Not receiving mail on {mailbox}", "Our emails land in spam", "Cannot send from {mailbox}",
        "Mailbox full", "550 error when sending", "IMAP setup on iPhone",
    ),
    "billing": (
        "Payment for invoice {invoice}", "Payment not credited", "Refund request", "Invoices for {month}",
        "Double charge on my card", "Update billing details",
    ),
    "sales": (
        "Question about hosting plans", "VPS for an online shop", "Reseller program", "Annual discount",
    ),
    "abuse": (
        "Spam from {ip}", "Phishing site on {domain}", "Spam run from your network",
        "Copyright infringement on {domain}", "DDoS from {ip}",
    ),
}

PROBLEMS = {
    "hosting": (
        "Since this morning {domain} returns a 502 error for every request.",
        "Our site {domain} takes 20-30 seconds to load, yesterday it was fine.",
        "After switching PHP to {php} the admin panel of {domain} shows a blank page.",
        "The control panel says the disk is full, but we have very few files.",
        "I cannot connect to {ip} via SSH, the connection is closed right after the password prompt.",
        "All {n_sites} on our account intermittently show an Internal Server Error.",
        "Server {server} does not answer to ping and our sites have been down for {n_hours}.",
        "Our product import script is killed by a timeout, the execution limit seems too low.",
        "Cron jobs stopped running on the server, there is nothing in the logs.",
    ),
    "domains": (
        "The registration of {domain} expires in {n_days} and the renewal button is greyed out.",
        "We would like to transfer {n_domains} from another registrar to you, what are the steps?",
        "{domain} was suddenly suspended, both the website and email are down.",
        "We need to change the registrant of {domain} from a private person to our company.",
        "Where can I find the auth code for {domain}? It is not shown in the customer area.",
        "The transfer of {domain2} failed with 'Transfer prohibited'.",
    ),
    "dns": (
        "I changed the A record of {domain} to {ip} {n_hours} ago but still see the old server.",
        "Please add MX records for Google Workspace to {domain}.",
        "The subdomain {sub} does not resolve although the record exists in the zone.",
        "{domain} uses {ns1} and {ns2} but the site is still served from the old host.",
        "A verification service asks for a TXT record and the panel refuses the long value.",
        "dig returns SERVFAIL for {domain} from several networks.",
    ),
    "ssl": (
        "The SSL certificate for {domain} cannot be issued, domain validation fails.",
        "Browsers say the certificate of {domain} has expired although auto-renewal was on.",
        "We need one certificate covering {domain} and all subdomains.",
        "After moving to HTTPS some images are blocked as mixed content.",
        "The Let's Encrypt certificate for {sub} was not renewed automatically.",
    ),
    "mail": (
        "Since yesterday {mailbox} does not receive any mail, senders get a bounce.",
        "Our newsletters end up in the spam folder at Gmail and Outlook.",
        "Sending from {mailbox} fails with '550 5.7.1 relaying denied'.",
        "The mailbox {mailbox} is full although we deleted old messages.",
        "I cannot set up {mailbox} on my phone, it says the password is wrong.",
        "{n_letters} disappeared from the inbox after a sync.",
    ),
    "billing": (
        "We paid invoice {invoice} ({amount} RUB) but the service has not been renewed.",
        "Our bank transfer from {date} is not on the balance yet, remittance advice attached.",
        "My card was charged twice ({amount} RUB) for the renewal of {domain}.",
        "Please refund the unused period of our hosting plan.",
        "Please send the invoices and acts for {month}.",
        "Our company details changed, please update the billing address.",
    ),
    "sales": (
        "Which plan would you recommend for a shop with about 5000 visitors a day?",
        "We are interested in a VPS with 4 cores and 8 GB RAM. Is there a discount for annual payment?",
        "We are a web agency with {n_sites} and would like to join your reseller program.",
    ),
    "abuse": (
        "Your IP address {ip} is sending large amounts of spam to our users.",
        "There is a phishing page imitating a bank login on {domain}.",
        "{domain} copies our articles without permission.",
        "We see thousands of requests per second from {ip}.",
    ),
}

DETAILS = {
    "hosting": (
        "We did not change anything on the site recently.",
        "The site runs WordPress, all plugins are up to date.",
        "The error log shows many lines about memory_limit.",
        "The problem occurs about once an hour and lasts ten minutes.",
    ),
    "domains": (
        "The domain is registered to our company.", "The domain is unlocked at the current registrar.",
    ),
    "dns": (
        "I flushed my local DNS cache.", "The dig output is below.", "From mobile data the site works.",
    ),
    "ssl": ("The domain points to your nameservers.", "Renewal used to work without problems."),
    "mail": (
        "The password works in webmail.", "I am not sure SPF and DKIM are set up correctly.",
    ),
    "billing": ("Contract number {order}, payer {company}.", "The money has left our account."),
    "sales": ("Our sites are currently hosted elsewhere.", "We need Python and Node.js support."),
    "abuse": ("Full headers are attached.", "Please act quickly."),
}

FOLLOWUPS_BAD = (
    "Thanks, but the problem is still there: {domain} still does not work.",
    "I followed the instructions but the error persists.",
    "It broke again this morning, could you please have another look?", "Still no change after {n_hours}.",
)

FOLLOWUPS_GOOD = (
    "Thanks, it works now!", "Confirmed, everything is fine now. Thank you for your help.",
    "The error is gone, you can close the ticket.",
)

FOLLOWUPS_INFO = (
    "To answer your questions: the panel login is {email}, the site is {domain}, the IP is {ip}.",
    "Screenshot and log excerpt attached.", "Order number {order}, paid on {date}.",
)

ANSWERS = {
    "hosting": (
        "We checked {server}: {domain} hit the process limit, which we have raised.",
        "The 502 errors were caused by a web server restart on {server}; the site responds normally again.",
        "We enabled caching for your site, response times dropped significantly.",
        "PHP for {domain} is now {php} with the mbstring extension enabled.",
        "Most of the disk space is used by old backups in the backup directory; you can delete them.",
        "SSH access is enabled, please connect to {server} on port 22.",
    ),
    "domains": (
        "{domain} has been renewed for one year, the new expiry date is {date}.",
        "To transfer domains to us, request the auth code from your current registrar and submit a transfer "
        "order.",
        "The auth code for {domain} has been sent to the registrant's e-mail address.",
        "The transfer of {domain2} is blocked by the losing registrar; please remove "
        "clientTransferProhibited.",
    ),
    "dns": (
        "DNS changes can take up to 24 hours to propagate; our nameservers already serve the new zone.",
        "We added the MX records to {domain}.", "The record for {sub} had a typo which we fixed.",
        "{domain} is delegated to {ns1} and {ns2} and the zone is correct there.",
    ),
    "ssl": (
        "The certificate for {domain} has been issued and installed, please check the site.",
        "Validation failed because of an AAAA record pointing elsewhere; we removed it.",
        "We issued a wildcard certificate for *.{domain}.",
        "Mixed content warnings come from http:// links in your theme; please change them to https://.",
    ),
    "mail": (
        "{mailbox} had been blocked for suspicious activity; the block has been lifted.",
        "We added SPF and DKIM records for {domain}, your messages should no longer be marked as spam.",
        "The 550 error meant your IP was blacklisted; we requested delisting.",
        "Use mail.{domain}, port 993 (IMAP, SSL) on your phone.",
    ),
    "billing": (
        "Payment for invoice {invoice} has been credited and your services renewed.",
        "The refund of {amount} RUB has been issued, it will arrive within 5-10 business days.",
        "The documents for {month} have been sent by e-mail.",
        "We confirm the double charge; the second payment has been refunded.",
    ),
    "sales": (
        "For that traffic we recommend our VPS-4 plan with 4 cores and 8 GB RAM.",
        "Annual payment gives a 15% discount.",
        "Migration to us is free of charge and done by our engineers.",
    ),
    "abuse": (
        "We blocked outgoing mail from {ip} and notified the server owner.",
        "The phishing page on {domain} has been removed and the account suspended.",
    ),
}

NOTES = {
    "hosting": (
        "Checked {server}: load 35, customer's php-fpm pool ate all RAM.", "Raised process limit to 40.",
    ),
    "domains": ("Registry says {domain} is serverHold, waiting for documents.",),
    "dns": ("Zone on {ns1} and {ns2} is identical, resolver cache on customer side.",),
    "ssl": ("CAA record blocked issuance for {domain}, removed.",),
    "mail": ("{ip} listed on Spamhaus, delisting requested.",),
    "billing": ("Found the payment in the bank statement of {date}, booked manually.",),
    "sales": ("Big agency, forwarded to partner manager.",),
    "abuse": ("Blocked outbound SMTP for {ip}.",),
}

GREETINGS = ("Hello,", "Hi,", "Good morning,", "Dear support team,", "Hello support,")

INTROS = (
    "My name is {full}, I manage the websites of {company}.", "I am writing on behalf of {company}.",
    "We have {n_domains} and {n_sites} with you.", "This is related to Ticket#{old_tn}.",
)

QUESTIONS = (
    "What can we do?", "Could you please look into this?", "When will this be fixed?",
    "Is this an issue on your side?", "This is urgent, our shop is offline.",
)

THANKS = ("Thanks in advance.", "Thank you!", "Best regards,", "Kind regards,")

CUSTOMER_SIGNATURES = ("--\n{full}\n{company}\n{phone}", "{full}", "Cheers,\n{name}")

AGENT_GREETINGS = ("Dear {name},", "Hello {name},", "Hi {name},", "Hello,")

AGENT_OPENERS = (
    "Thank you for contacting us.", "Thank you for your patience.", "Sorry for the inconvenience.",
)

AGENT_ASKS = (
    "Could you tell us the exact time the error occurred?",
    "Please send a screenshot and a traceroute to {ip}.", "Please check again and let us know.",
)

AGENT_CLOSINGS = (
    "If you have any further questions, simply reply to this e-mail.", "Have a nice day!",
    "We will keep the ticket open until we hear from you.",
)

AGENT_SIGNATURE = "--\nBest regards,\n{agent}\n{dept}\n{dept_email}"

QUOTE_HEADER = "On {date_time}, {who} wrote:"

NOTE_SUBJECTS = ("Note", "Internal note", "Check", "For colleagues")

PHONE_SUBJECTS = ("Phone call: {subject}", "{subject}")

PHONE_AGENT = (
    "Called the customer and explained the cause.", "Customer called back, confirmed it works.",
)

PHONE_CUSTOMER = ("Customer called the hotline.", "Call from {full} ({company}).")

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)

NOUN_FORMS = {
    "domains": ("domain", "domains"),
    "sites": ("website", "websites"),
    "letters": ("message", "messages"),
    "records": ("record", "records"),
    "days": ("day", "days"),
    "hours": ("hour", "hours"),
    "boxes": ("mailbox", "mailboxes"),
    "servers": ("server", "servers"),
}
